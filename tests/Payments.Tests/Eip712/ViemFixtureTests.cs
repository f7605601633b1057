using System.Numerics;
using System.Text.Json;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;

namespace Sessions.Payments.Tests.Eip712;

/// <summary>Typed data hashed and signed by viem 2.x (Fixtures/viem-typed-data.json): nested structs, arrays,
/// signed integers, dynamic and fixed bytes, domain subsets and salt, uint256/uint128 maxima.</summary>
public sealed class ViemFixtureTests
{
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var entry in Fixtures.Load("viem-typed-data.json").EnumerateArray())
            data.Add(entry.GetProperty("name").GetString()!);
        return data;
    }

    private static JsonElement Case(string name) =>
        Fixtures.Load("viem-typed-data.json").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);

    private static Eip712Domain DomainOf(JsonElement domain) => new(
        domain.TryGetProperty("name", out var n) ? n.GetString() : null,
        domain.TryGetProperty("version", out var v) ? v.GetString() : null,
        domain.TryGetProperty("chainId", out var c) ? new BigInteger(c.GetInt64()) : null,
        domain.TryGetProperty("verifyingContract", out var vc) ? EvmAddress.Parse(vc.GetString()!) : null,
        domain.TryGetProperty("salt", out var s) ? Bytes32.Parse(s.GetString()!) : null);

    private static Eip712TypeSet TypesOf(JsonElement types) => new(types.EnumerateObject().ToDictionary(
        t => t.Name,
        t => (IReadOnlyList<Eip712Field>)t.Value.EnumerateArray()
            .Select(f => new Eip712Field(f.GetProperty("name").GetString()!, f.GetProperty("type").GetString()!)).ToList()));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Digest_and_deterministic_signature_match_viem(string name)
    {
        var fixture = Case(name);
        var domain = DomainOf(fixture.GetProperty("domain"));
        var types = TypesOf(fixture.GetProperty("types"));
        var primaryType = fixture.GetProperty("primaryType").GetString()!;
        var message = (IReadOnlyDictionary<string, object?>)Fixtures.ToEncoderValue(fixture.GetProperty("message"))!;
        var key = Secp256k1.ParsePrivateKeyHex(fixture.GetProperty("privateKey").GetString()!);

        var digest = Eip712Hasher.HashTypedData(domain, types, primaryType, message);
        Assert.Equal(fixture.GetProperty("digest").GetString(), Hex.Encode(digest));
        Assert.Equal(fixture.GetProperty("signature").GetString(), Hex.Encode(Eip712Hasher.Sign(domain, types, primaryType, message, key)));

        var recovery = Eip712Hasher.RecoverSigner(domain, types, primaryType, message, fixture.GetProperty("signature").GetString());
        Assert.Equal(fixture.GetProperty("address").GetString(), recovery.Signer?.ToChecksumString());
    }

    [Fact]
    public void Predefined_records_agree_with_viem()
    {
        var transfer = Case("transfer-3"); // value = 2^256 - 1
        var m = transfer.GetProperty("message");
        var record = new TransferWithAuthorization(
            EvmAddress.Parse(m.GetProperty("from").GetString()!), EvmAddress.Parse(m.GetProperty("to").GetString()!),
            BigInteger.Parse(m.GetProperty("value").GetString()!), BigInteger.Parse(m.GetProperty("validAfter").GetString()!),
            BigInteger.Parse(m.GetProperty("validBefore").GetString()!), Bytes32.Parse(m.GetProperty("nonce").GetString()!));
        Assert.Equal(transfer.GetProperty("digest").GetString(), Hex.Encode(record.Digest(DomainOf(transfer.GetProperty("domain")))));

        var voucher = Case("voucher");
        var vm = voucher.GetProperty("message");
        var voucherRecord = new MppVoucher(Bytes32.Parse(vm.GetProperty("channelId").GetString()!), BigInteger.Parse(vm.GetProperty("cumulativeAmount").GetString()!));
        var voucherDomain = DomainOf(voucher.GetProperty("domain"));
        Assert.Equal(voucher.GetProperty("digest").GetString(), Hex.Encode(voucherRecord.Digest(voucherDomain)));
        Assert.Equal(voucher.GetProperty("address").GetString(), voucherRecord.RecoverSigner(voucherDomain, voucher.GetProperty("signature").GetString()).Signer?.ToString());
    }
}
