using System.Reflection;
using HaPowerShell.Core.Vrrp;
using Xunit;

namespace HaPowerShell.Tests;

public class VrrpPasswordTests
{
    [Fact]
    public void ShowsAndExposesNothing()
    {
        VrrpPassword p = new("secret1");
        Assert.Equal("********", p.ToString());
        // ConvertTo-Json and Format-List * read public properties and fields: there are none.
        Assert.Empty(typeof(VrrpPassword).GetProperties(BindingFlags.Public | BindingFlags.Instance));
        Assert.Empty(typeof(VrrpPassword).GetFields(BindingFlags.Public | BindingFlags.Instance));
        Assert.Equal("secret1", p.Reveal());
    }

    [Fact]
    public void ComparesByValue()
    {
        VrrpPassword? a = "secret1", b = "secret1", c = "other";
        Assert.True(a == b);
        Assert.True(a != c);
        Assert.True(a != null);
        Assert.Equal(a!.GetHashCode(), b!.GetHashCode());
    }

    [Fact]
    public void TheAdvertCarriesItZeroPadded()
    {
        var data = VrrpCodec.PasswordToAuthData((VrrpPassword)"abc");
        Assert.Equal(new byte[] { (byte)'a', (byte)'b', (byte)'c', 0, 0, 0, 0, 0 }, data);
    }
}
