using Microsoft.Extensions.Options;

namespace TokenClient.DependencyInjection;

/// <summary>
/// The ranges declared on <see cref="TokenClientOptions"/> (<see cref="OptionRangeAttribute"/>), checked by
/// a validator Microsoft.Extensions.Options generates: no reflection at start-up, and the ranges are written once, where
/// the option is. Run by <see cref="TokenClientOptionsValidator"/>, with the rules that span keys and providers.
/// </summary>
[OptionsValidator]
internal sealed partial class TokenClientOptionsRanges : IValidateOptions<TokenClientOptions>;
