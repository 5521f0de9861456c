"""Ed25519 test inputs: RFC 8032 vectors and the edge cases where verifiers disagree.

Shared by the tests of the Python reference, of the C verifier and by the benchmark. The
edge cases are built with the reference's own point arithmetic: small-order points with
every encoding, non-canonical encodings, and signatures under keys or nonces that carry a
torsion component (which a cofactorless verifier accepts only when the torsion cancels).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from heliostat.primitives.ed25519 import (
    BASE,
    IDENTITY,
    L,
    P,
    Point,
    challenge,
    compress,
    decompress,
    point_add,
    point_negate,
    points_equal,
    scalar_mult,
)


@dataclass(frozen=True)
class Rfc8032Vector:
    """One test of RFC 8032 §7.1: a secret seed, its public key, a message and its signature."""

    name: str
    seed: bytes
    public_key: bytes
    message: bytes
    signature: bytes


# RFC 8032 §7.1 (Ed25519): TEST 1, 2, 3, 1024 and SHA(abc). The 1023-byte message of
# "TEST 1024" is kept as hex below.
_TEST_1024_MESSAGE = bytes.fromhex(
    "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98"
    "fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8"
    "79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
    "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc"
    "1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe"
    "ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
    "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef"
    "fefd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec"
    "7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed"
    "185ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb"
    "2d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc2"
    "4554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f27"
    "088d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbc"
    "c2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b0"
    "7e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128bab"
    "27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51ad"
    "dd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429ec"
    "96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb75"
    "1fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c4"
    "2f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8c"
    "a61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34dff"
    "7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d"
    "78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649d"
    "e6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e48"
    "8acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32"
    "ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e6"
    "aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5fb"
    "93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50"
    "d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef13"
    "69546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380db"
    "2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0"
    "618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d00"
)


def _vector(name: str, seed: str, public_key: str, message: bytes, signature: str) -> Rfc8032Vector:
    return Rfc8032Vector(
        name, bytes.fromhex(seed), bytes.fromhex(public_key), message, bytes.fromhex(signature)
    )


RFC8032_VECTORS: tuple[Rfc8032Vector, ...] = (
    _vector(
        "TEST 1",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        b"",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    _vector(
        "TEST 2",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        bytes.fromhex("72"),
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    _vector(
        "TEST 3",
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        bytes.fromhex("af82"),
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
        "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
    _vector(
        "TEST 1024",
        "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
        "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
        _TEST_1024_MESSAGE,
        "d686294b743c6760c6a78a2c4c2fc76115c2600b8f083acde59e7cee32578c0f"
        "59ea4219ab9b5896795e4e2b87a30270aa0e3099eee944e9e67a1b22df41ff07",
    ),
    _vector(
        "TEST SHA(abc)",
        "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        hashlib.sha512(b"abc").digest(),
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
        "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
    ),
)


def encode_y(y: int, sign: int = 0) -> bytes:
    """Return the 32 bytes holding ``y`` (any value below 2^255) and the sign bit."""
    return (y | sign << 255).to_bytes(32, "little")


def _order(point: Point) -> int:
    """Order of a point of the torsion subgroup (1, 2, 4 or 8)."""
    multiple = point
    for order in (1, 2, 4, 8):
        if points_equal(multiple, IDENTITY):
            return order
        multiple = point_add(multiple, multiple)
    raise ValueError("not a torsion point")


def _torsion_generator() -> Point:
    """Return a point of order 8: [L]Q for the first decodable y whose [L]Q has order 8."""
    for y in range(2, 1000):
        candidate = decompress(encode_y(y))
        if candidate is None:
            continue
        torsion = scalar_mult(L, candidate)
        if _order(torsion) == 8:
            return torsion
    raise RuntimeError("no point of order 8 found")  # pragma: no cover


T8 = _torsion_generator()
# The 8 points of the torsion subgroup: [i]T8 for i = 0..7.
TORSION: tuple[Point, ...] = tuple(scalar_mult(i, T8) if i else IDENTITY for i in range(8))


def affine(point: Point) -> tuple[int, int]:
    """Return (x, y) reduced modulo p."""
    z_inv = pow(point.Z, P - 2, P)
    return point.X * z_inv % P, point.Y * z_inv % P


def encodings(point: Point) -> list[bytes]:
    """Every 32-byte string that decodes to ``point`` under dalek's rules, canonical first.

    The extra ones use y + p (when it fits in 255 bits) and, when x = 0, the sign bit.
    """
    x, y = affine(point)
    ys = [y] + ([y + P] if y + P < 2**255 else [])
    signs = [x & 1] + ([1] if x == 0 else [])
    return [encode_y(yy, sign) for yy in ys for sign in signs]


SMALL_ORDER_ENCODINGS: tuple[bytes, ...] = tuple(
    encoding for point in TORSION for encoding in encodings(point)
)


def sign_with_scalars(secret: int, nonce: int, public_key: bytes, message: bytes) -> bytes:
    """Sign with a raw secret scalar and nonce: R = [nonce]B, s = nonce + k·secret mod L.

    ``public_key`` is hashed as given, so a key with a torsion part or a non-canonical
    encoding can be used.
    """
    r_bytes = compress(scalar_mult(nonce, BASE))
    k = challenge(r_bytes, public_key, message)
    s = (nonce + k * secret) % L
    return r_bytes + s.to_bytes(32, "little")


def mixed_order_key(secret: int, torsion_index: int) -> bytes:
    """Encode A = [secret]B + T, where T = TORSION[torsion_index]."""
    return compress(point_add(scalar_mult(secret, BASE), TORSION[torsion_index]))


def mixed_order_signature(
    secret: int, torsion_index: int, message: bytes, *, valid: bool
) -> tuple[bytes, bytes]:
    """Sign under a mixed-order key A = [a]B + T; return (signature, public key).

    [s]B − [k]A = R − [k]T, so a cofactorless verifier accepts exactly when [k]T is the
    identity. Nonces are tried until that holds (``valid``) or fails.
    """
    public_key = mixed_order_key(secret, torsion_index)
    torsion = TORSION[torsion_index]
    for nonce in range(1, 1000):
        signature = sign_with_scalars(secret, nonce, public_key, message)
        k = challenge(signature[:32], public_key, message)
        if points_equal(scalar_mult(k, torsion), IDENTITY) == valid:
            return signature, public_key
    raise RuntimeError("no nonce found")  # pragma: no cover


def mixed_order_r_signature(secret: int, torsion_index: int, message: bytes) -> tuple[bytes, bytes]:
    """Make a valid signature whose R has a torsion part, under a mixed-order key.

    With A = [a]B + T_A and R = [r]B + T_R, [s]B − [k]A = R exactly when T_R = −[k]T_A;
    k depends on R, so nonces and T_R are tried until that holds. Returns (signature, key).
    """
    public_key = mixed_order_key(secret, torsion_index)
    torsion = TORSION[torsion_index]
    for nonce in range(1, 1000):
        for t_r in TORSION[1:]:
            r_bytes = compress(point_add(scalar_mult(nonce, BASE), t_r))
            k = challenge(r_bytes, public_key, message)
            if points_equal(point_negate(scalar_mult(k, torsion)), t_r):
                s = (nonce + k * secret) % L
                return r_bytes + s.to_bytes(32, "little"), public_key
    raise RuntimeError("no nonce found")  # pragma: no cover


def decodable_non_canonical_ys() -> list[int]:
    """Return the y in [0, 19) whose encoding y + p (≥ p, non-canonical) still decodes."""
    return [y for y in range(19) if decompress(encode_y(y + P)) is not None]


@dataclass(frozen=True)
class EdgeCase:
    """A (signature, public key, message) triple built to probe one acceptance rule."""

    name: str
    signature: bytes
    public_key: bytes
    message: bytes


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def edge_cases() -> list[EdgeCase]:
    """Build the edge cases of the brief: inputs whose verdict a verifier could get wrong.

    Verdicts are not stored: tests take them from Solana's verifier (solders) as the oracle.
    """
    secret, nonce, message = 0x1234567890ABCDEF, 0xFEDCBA987654321, b"heliostat edge case"
    key = compress(scalar_mult(secret, BASE))
    good = sign_with_scalars(secret, nonce, key, message)
    r_bytes, s = good[:32], int.from_bytes(good[32:], "little")
    cases = [EdgeCase("valid", good, key, message)]
    # s ≥ L: s + L still verifies under [s]B, so only the range check rejects it.
    cases.append(EdgeCase("s_plus_l", r_bytes + (s + L).to_bytes(32, "little"), key, message))
    cases.append(EdgeCase("s_equals_l", r_bytes + L.to_bytes(32, "little"), key, message))
    cases.append(EdgeCase("s_all_ones", r_bytes + b"\xff" * 32, key, message))
    cases.append(
        EdgeCase("s_top_bit", r_bytes + (s | 1 << 255).to_bytes(32, "little"), key, message)
    )
    cases.append(EdgeCase("s_l_minus_1", r_bytes + (L - 1).to_bytes(32, "little"), key, message))
    for i, small in enumerate(SMALL_ORDER_ENCODINGS):
        # Small-order A: with R = [r]B and s = r, [s]B − [k]A = R − [k]A, which holds
        # whenever [k]A is the identity (always for the identity's encodings).
        forged = sign_with_scalars(0, nonce, small, message)
        cases.append(EdgeCase(f"small_order_key_{i}", forged, small, message))
        # Small-order R: s = k·a gives [s]B − [k]A = identity, so R = identity verifies
        # under a lax verifier; the other torsion points make the equation fail as well.
        k = challenge(small, key, message)
        s_forged = (k * secret) % L
        cases.append(
            EdgeCase(f"small_order_r_{i}", small + s_forged.to_bytes(32, "little"), key, message)
        )
    for y in range(19):
        # Non-canonical encodings y + p (some decode, some do not) for A and R.
        non_canonical = encode_y(y + P)
        cases.append(EdgeCase(f"non_canonical_key_y{y}", good, non_canonical, message))
        cases.append(EdgeCase(f"non_canonical_r_y{y}", non_canonical + good[32:], key, message))
    # R re-encoded with y + p is impossible for a random R; flip R's sign bit instead.
    cases.append(EdgeCase("r_sign_flipped", _flip(good, 255), key, message))
    # Points not on the curve: the first y values that do not decode.
    off_curve = [y for y in range(2, 60) if decompress(encode_y(y)) is None][:3]
    for y in off_curve:
        cases.append(EdgeCase(f"off_curve_key_y{y}", good, encode_y(y), message))
        cases.append(EdgeCase(f"off_curve_r_y{y}", encode_y(y) + good[32:], key, message))
    for index in range(1, 8):
        for valid in (True, False):
            sig, mixed_key = mixed_order_signature(secret, index, message, valid=valid)
            label = "cancels" if valid else "remains"
            cases.append(EdgeCase(f"mixed_order_key_t{index}_{label}", sig, mixed_key, message))
        sig, mixed_key = mixed_order_r_signature(secret, index, message)
        cases.append(EdgeCase(f"mixed_order_r_t{index}", sig, mixed_key, message))
        # A torsion part on R alone never verifies: [s]B − [k]A has none.
        r_mixed = compress(point_add(scalar_mult(nonce, BASE), TORSION[index]))
        k = challenge(r_mixed, key, message)
        s_mixed = (nonce + k * secret) % L
        cases.append(
            EdgeCase(
                f"mixed_order_r_only_t{index}",
                r_mixed + s_mixed.to_bytes(32, "little"),
                key,
                message,
            )
        )
    cases.append(EdgeCase("wrong_message", good, key, message + b"!"))
    cases.append(EdgeCase("empty_message_for_other", good, key, b""))
    for bit in (0, 100, 254, 256, 300, 500, 509):
        cases.append(EdgeCase(f"signature_bit_{bit}", _flip(good, bit), key, message))
    for bit in (0, 77, 254, 255):
        cases.append(EdgeCase(f"key_bit_{bit}", good, _flip(key, bit), message))
    cases.append(EdgeCase("message_bit_0", good, key, _flip(message, 0)))
    cases.append(EdgeCase("all_zero", bytes(64), bytes(32), b""))
    return cases
