using Arcboard.Bench;

namespace Arcboard.Bench.Tests;

public class ProcessUsageTests
{
    [Fact]
    public void Peak_resident_memory_is_read_from_the_tab_separated_VmHWM_line()
    {
        const string status = "Name:\tdotnet\nVmPeak:\t 3260436 kB\nVmHWM:\t  183212 kB\nVmRSS:\t  170004 kB\n";

        ProcessUsage.ParsePeakResidentKb(status).ShouldBe(183212);
    }

    [Fact]
    public void A_status_without_VmHWM_such_as_a_zombie_has_no_peak() =>
        ProcessUsage.ParsePeakResidentKb("Name:\tdotnet\nState:\tZ (zombie)\n").ShouldBeNull();

    [Fact]
    public void Cpu_ticks_are_utime_plus_stime_even_when_the_name_holds_spaces_and_parentheses()
    {
        const string stat = "4242 (odd) name) S 1 4242 4242 0 -1 4194304 102 0 0 0 731 269 0 0 20 0 1 0 493423 3133440 358";

        ProcessUsage.ParseCpuTicks(stat).ShouldBe(731 + 269);
    }

    [Fact]
    public void A_truncated_stat_line_gives_no_ticks() =>
        ProcessUsage.ParseCpuTicks("4242 (dotnet) S 1 4242").ShouldBeNull();

    [Fact]
    public void The_running_test_process_reads_as_a_live_process()
    {
        var (kb, ticks) = ProcessUsage.Read(Environment.ProcessId);

        kb.ShouldNotBeNull().ShouldBeGreaterThan(1024);
        ticks.ShouldNotBeNull().ShouldBeGreaterThan(0);
        ProcessUsage.ClockTicksPerSecond().ShouldBeGreaterThan(0);
    }
}
