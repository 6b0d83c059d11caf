using System.Text.Json.Serialization;

namespace TokenClient.Testing;

[JsonSerializable(typeof(Dictionary<string, object>))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(string))]
internal sealed partial class FakeJsonContext : JsonSerializerContext;
