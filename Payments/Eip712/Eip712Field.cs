namespace Sessions.Payments.Eip712;

/// <summary>One member of an EIP-712 struct type, e.g. ("from", "address").</summary>
public sealed record Eip712Field(string Name, string Type);
