using System.Runtime.Versioning;

namespace TokenClient.Tests;

/// <summary>Each target's tests run on that target's runtime, against the library's build for it (not rolled forward).</summary>
public class RuntimeTests
{
    [Fact]
    public void TheTestsRunOnTheirTargetsRuntime_AgainstTheLibrarysBuildForIt()
    {
#if NET10_0
        const int expected = 10;
#else
        const int expected = 8;
#endif
        Environment.Version.Major.Should().Be(expected);
        typeof(ITokenClient).Assembly.GetCustomAttributes(typeof(TargetFrameworkAttribute), false).Cast<TargetFrameworkAttribute>()
            .Single().FrameworkName.Should().Be($".NETCoreApp,Version=v{expected}.0");
    }
}
