using System.Globalization;

namespace Arcboard.Sandbox.Aws;

/// <summary>One authenticated call: who made it, in which account and region, for which operation.</summary>
public sealed record AwsCall(AwsPrincipal Principal, string Region, string Service, string Operation, string RequestId)
{
    public string AccountId => Principal.AccountId;
}

internal static class AwsPaging
{
    public static string Token(int offset) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("arcboard-sandbox:" + offset.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The offset a token stands for; a token this sandbox did not issue is refused as AWS refuses foreign tokens.</summary>
    public static int Offset(string? token, string errorCode)
    {
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }

        try
        {
            var text = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(token));
            if (text.StartsWith("arcboard-sandbox:", StringComparison.Ordinal) && int.TryParse(text["arcboard-sandbox:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            {
                return offset;
            }
        }
        catch (FormatException)
        {
        }

        throw new AwsServiceException(errorCode, "The specified token is not valid.");
    }
}
