/*
 * Hash to the X25519 group, suite `vfl-x25519-ell2s-ro` (see libs/crypto/src/psi-group.ts), in C.
 *
 *   r0 || r1 = expand_message_xmd(msg, DST, 64, SHA-512)      RFC 9380 §5.3.1 (OpenSSL's SHA-512,
 *                                                             which the Node binary exports)
 *   u(8·E(r0) + 8·E(r1))                                      E: libsodium's from_uniform map
 *
 * The output is byte-identical to the libsodium path (two crypto_core_ed25519_from_uniform, an
 * addition, an Edwards -> Montgomery conversion). What makes it faster is where the field
 * exponentiations go: libsodium's from_uniform spends five per call (two inversions, a Legendre
 * symbol, the square root of a decompression, the inversion of a compression) and the addition
 * two more decompressions and a compression. Here each map is one exponentiation (the square
 * root of g(x1) as a ratio, RFC 9380 App. F.2.1.2, whose result also gives the root of g(x2) =
 * 2t²·g(x1)), the Edwards point is built from the Montgomery (u, v) in projective form, both
 * maps share one inversion (needed to read the sign of x that r's top bit prescribes), and the
 * final u = (Z + Y) / (Z − Y) of a whole batch costs one inversion (Montgomery's trick).
 *
 * Field elements: 5 limbs of 51 bits (the layout of curve25519-donna-c64 and libsodium's fe51).
 * Selections on secret data use masks, not branches. Inputs whose map hits an exceptional point
 * (t = 0, u = −1: probability ~2^-250 for hashed input) make the call return null, and the
 * caller recomputes that batch with libsodium, which handles them as the reference does.
 */
#include <node_api.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t fe[5];
typedef unsigned __int128 u128;
#define MASK51 0x7ffffffffffffULL

static void fe_copy(fe o, const fe a) { memcpy(o, a, sizeof(fe)); }
static void fe_0(fe o) { memset(o, 0, sizeof(fe)); }
static void fe_1(fe o) { fe_0(o); o[0] = 1; }

static void fe_carry(fe o) {
  uint64_t c;
  c = o[0] >> 51; o[0] &= MASK51; o[1] += c;
  c = o[1] >> 51; o[1] &= MASK51; o[2] += c;
  c = o[2] >> 51; o[2] &= MASK51; o[3] += c;
  c = o[3] >> 51; o[3] &= MASK51; o[4] += c;
  c = o[4] >> 51; o[4] &= MASK51; o[0] += c * 19;
}

static void fe_add(fe o, const fe a, const fe b) {
  for (int i = 0; i < 5; i++) o[i] = a[i] + b[i];
  fe_carry(o);
}

/* a − b + 4p, limbs of a and b below 2^52 (every fe here is carried). */
static void fe_sub(fe o, const fe a, const fe b) {
  o[0] = a[0] + 0x1fffffffffffb4ULL - b[0];
  o[1] = a[1] + 0x1ffffffffffffcULL - b[1];
  o[2] = a[2] + 0x1ffffffffffffcULL - b[2];
  o[3] = a[3] + 0x1ffffffffffffcULL - b[3];
  o[4] = a[4] + 0x1ffffffffffffcULL - b[4];
  fe_carry(o);
}

static void fe_neg(fe o, const fe a) {
  fe z;
  fe_0(z);
  fe_sub(o, z, a);
}

static void fe_mul(fe o, const fe a, const fe b) {
  const uint64_t b1 = b[1] * 19, b2 = b[2] * 19, b3 = b[3] * 19, b4 = b[4] * 19;
  u128 t0 = (u128)a[0] * b[0] + (u128)a[1] * b4 + (u128)a[2] * b3 + (u128)a[3] * b2 + (u128)a[4] * b1;
  u128 t1 = (u128)a[0] * b[1] + (u128)a[1] * b[0] + (u128)a[2] * b4 + (u128)a[3] * b3 + (u128)a[4] * b2;
  u128 t2 = (u128)a[0] * b[2] + (u128)a[1] * b[1] + (u128)a[2] * b[0] + (u128)a[3] * b4 + (u128)a[4] * b3;
  u128 t3 = (u128)a[0] * b[3] + (u128)a[1] * b[2] + (u128)a[2] * b[1] + (u128)a[3] * b[0] + (u128)a[4] * b4;
  u128 t4 = (u128)a[0] * b[4] + (u128)a[1] * b[3] + (u128)a[2] * b[2] + (u128)a[3] * b[1] + (u128)a[4] * b[0];
  t1 += (uint64_t)(t0 >> 51);
  t2 += (uint64_t)(t1 >> 51);
  t3 += (uint64_t)(t2 >> 51);
  t4 += (uint64_t)(t3 >> 51);
  u128 r0 = ((uint64_t)t0 & MASK51) + (u128)(uint64_t)(t4 >> 51) * 19;
  o[0] = (uint64_t)r0 & MASK51;
  o[1] = ((uint64_t)t1 & MASK51) + (uint64_t)(r0 >> 51);
  o[2] = (uint64_t)t2 & MASK51;
  o[3] = (uint64_t)t3 & MASK51;
  o[4] = (uint64_t)t4 & MASK51;
}

/* a², with the symmetric products counted once (ten 64x64 multiplications against twenty-five). */
static void fe_sq(fe o, const fe a) {
  const uint64_t d0 = 2 * a[0], d1 = 2 * a[1], d2 = 2 * a[2], d3 = 2 * a[3];
  const uint64_t a3_19 = 19 * a[3], a4_19 = 19 * a[4];
  u128 t0 = (u128)a[0] * a[0] + (u128)d1 * a4_19 + (u128)d2 * a3_19;
  u128 t1 = (u128)d0 * a[1] + (u128)d2 * a4_19 + (u128)a[3] * a3_19;
  u128 t2 = (u128)d0 * a[2] + (u128)a[1] * a[1] + (u128)d3 * a4_19;
  u128 t3 = (u128)d0 * a[3] + (u128)d1 * a[2] + (u128)a[4] * a4_19;
  u128 t4 = (u128)d0 * a[4] + (u128)d1 * a[3] + (u128)a[2] * a[2];
  t1 += (uint64_t)(t0 >> 51);
  t2 += (uint64_t)(t1 >> 51);
  t3 += (uint64_t)(t2 >> 51);
  t4 += (uint64_t)(t3 >> 51);
  u128 r0 = ((uint64_t)t0 & MASK51) + (u128)(uint64_t)(t4 >> 51) * 19;
  o[0] = (uint64_t)r0 & MASK51;
  o[1] = ((uint64_t)t1 & MASK51) + (uint64_t)(r0 >> 51);
  o[2] = (uint64_t)t2 & MASK51;
  o[3] = (uint64_t)t3 & MASK51;
  o[4] = (uint64_t)t4 & MASK51;
}

static void fe_sqn(fe o, const fe a, int n) {
  fe_sq(o, a);
  for (int i = 1; i < n; i++) fe_sq(o, o);
}

/* z^(2^250 − 1) and z^11, the common prefix of the inversion and square-root chains (ref10). */
static void fe_pow_2_250_1(fe o, fe z11, const fe z) {
  fe t0, t1, t2, t3;
  fe_sq(t0, z);            /* 2 */
  fe_sqn(t1, t0, 2);       /* 8 */
  fe_mul(t1, z, t1);       /* 9 */
  fe_mul(t0, t0, t1);      /* 11 */
  fe_copy(z11, t0);
  fe_sq(t2, t0);           /* 22 */
  fe_mul(t1, t1, t2);      /* 2^5 − 1 */
  fe_sqn(t2, t1, 5);
  fe_mul(t1, t2, t1);      /* 2^10 − 1 */
  fe_sqn(t2, t1, 10);
  fe_mul(t2, t2, t1);      /* 2^20 − 1 */
  fe_sqn(t3, t2, 20);
  fe_mul(t2, t3, t2);      /* 2^40 − 1 */
  fe_sqn(t2, t2, 10);
  fe_mul(t1, t2, t1);      /* 2^50 − 1 */
  fe_sqn(t2, t1, 50);
  fe_mul(t2, t2, t1);      /* 2^100 − 1 */
  fe_sqn(t3, t2, 100);
  fe_mul(t2, t3, t2);      /* 2^200 − 1 */
  fe_sqn(t2, t2, 50);
  fe_mul(o, t2, t1);       /* 2^250 − 1 */
}

/* z^(p − 2) = z^(2^255 − 21); 0 for z = 0. */
static void fe_invert(fe o, const fe z) {
  fe t, z11;
  fe_pow_2_250_1(t, z11, z);
  fe_sqn(t, t, 5);
  fe_mul(o, t, z11);
}

/* z^((p − 5) / 8) = z^(2^252 − 3). */
static void fe_pow22523(fe o, const fe z) {
  fe t, z11;
  fe_pow_2_250_1(t, z11, z);
  fe_sqn(t, t, 2);
  fe_mul(o, t, z);
}

static void fe_tobytes(uint8_t s[32], const fe h) {
  uint64_t t[5];
  memcpy(t, h, sizeof(t));
  fe_carry(t);
  fe_carry(t);
  /* t < 2^255 + small: add 19 and see whether it reaches 2^255 (t ≥ p), as donna's fcontract. */
  t[0] += 19;
  fe_carry(t);
  t[0] += 0x8000000000000ULL - 19;
  t[1] += 0x8000000000000ULL - 1;
  t[2] += 0x8000000000000ULL - 1;
  t[3] += 0x8000000000000ULL - 1;
  t[4] += 0x8000000000000ULL - 1;
  t[1] += t[0] >> 51; t[0] &= MASK51;
  t[2] += t[1] >> 51; t[1] &= MASK51;
  t[3] += t[2] >> 51; t[2] &= MASK51;
  t[4] += t[3] >> 51; t[3] &= MASK51;
  t[4] &= MASK51;
  const uint64_t w[4] = {t[0] | (t[1] << 51), (t[1] >> 13) | (t[2] << 38), (t[2] >> 26) | (t[3] << 25),
                         (t[3] >> 39) | (t[4] << 12)};
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 8; j++) s[8 * i + j] = (uint8_t)(w[i] >> (8 * j));
}

/* Reads 255 bits (the top bit of s[31] is ignored); values ≥ p are reduced by the arithmetic. */
static void fe_frombytes(fe h, const uint8_t s[32]) {
  uint64_t w[4];
  for (int i = 0; i < 4; i++) {
    w[i] = 0;
    for (int j = 0; j < 8; j++) w[i] |= (uint64_t)s[8 * i + j] << (8 * j);
  }
  h[0] = w[0] & MASK51;
  h[1] = ((w[0] >> 51) | (w[1] << 13)) & MASK51;
  h[2] = ((w[1] >> 38) | (w[2] << 26)) & MASK51;
  h[3] = ((w[2] >> 25) | (w[3] << 39)) & MASK51;
  h[4] = (w[3] >> 12) & MASK51;
}

/* 1 when a = b (mod p), without branches. */
static uint64_t fe_eq(const fe a, const fe b) {
  uint8_t sa[32], sb[32], d = 0;
  fe_tobytes(sa, a);
  fe_tobytes(sb, b);
  for (int i = 0; i < 32; i++) d |= sa[i] ^ sb[i];
  return 1 & (((uint64_t)d - 1) >> 8);
}

static uint64_t fe_is0(const fe a) {
  fe z;
  fe_0(z);
  return fe_eq(a, z);
}

/* o = bit ? b : o */
static void fe_cmov(fe o, const fe b, uint64_t bit) {
  const uint64_t m = (uint64_t)0 - bit;
  for (int i = 0; i < 5; i++) o[i] ^= m & (o[i] ^ b[i]);
}

static fe SQRT_M1, SQRT_2_RATIO, EDWARDS_C, D2, MONT_A, MINUS_A;

/* Square-and-multiply by a little-endian exponent: only for the constants at load time. */
static void fe_pow_bytes(fe o, const fe z, const uint8_t e[32]) {
  fe r;
  fe_1(r);
  for (int i = 255; i >= 0; i--) {
    fe_sq(r, r);
    if ((e[i >> 3] >> (i & 7)) & 1) fe_mul(r, r, z);
  }
  fe_copy(o, r);
}

static void fe_from_u64(fe o, uint64_t v) {
  fe_0(o);
  o[0] = v & MASK51;
  o[1] = v >> 51;
}

/* (p − 1) / 4 and (p + 3) / 8 as little-endian bytes, from p = 2^255 − 19. */
static void exponent_bytes(uint8_t out[32], int which) {
  /* (p−1)/4 = 2^253 − 5; (p+3)/8 = 2^252 − 2. */
  memset(out, 0xff, 32);
  if (which == 0) {
    out[0] = 0xfb;
    out[31] = 0x1f;
  } else {
    out[0] = 0xfe;
    out[31] = 0x0f;
  }
}

static int init_constants(void) {
  uint8_t e[32];
  fe two, t, minus1;
  fe_from_u64(two, 2);
  exponent_bytes(e, 0);
  fe_pow_bytes(SQRT_M1, two, e); /* 2^((p−1)/4) is a square root of −1 */
  exponent_bytes(e, 1);
  fe_pow_bytes(SQRT_2_RATIO, two, e); /* 2^((p+3)/8): turns the candidate root of N/D into one of 2N/D */
  fe_from_u64(MONT_A, 486662);
  fe_neg(MINUS_A, MONT_A);
  /* d = −121665 / 121666, and 2d for the addition law */
  fe num, den;
  fe_from_u64(num, 121665);
  fe_neg(num, num);
  fe_from_u64(den, 121666);
  fe_invert(den, den);
  fe_mul(t, num, den);
  fe_add(D2, t, t);
  /* c = sqrt(−486664): Edwards x = c·u/v (RFC 7748 §4.1); its sign is fixed afterwards anyway. */
  fe c2, cand, chk;
  fe_from_u64(c2, 486664);
  fe_neg(c2, c2);
  exponent_bytes(e, 1);
  fe_pow_bytes(cand, c2, e);
  fe_sq(chk, cand);
  if (!fe_eq(chk, c2)) fe_mul(cand, cand, SQRT_M1);
  fe_sq(chk, cand);
  fe_copy(EDWARDS_C, cand);
  fe_1(minus1);
  fe_neg(minus1, minus1);
  fe_sq(t, SQRT_M1);
  return fe_eq(chk, c2) && fe_eq(t, minus1);
}

/* Extended twisted Edwards coordinates (a = −1), RFC 8032 §5.1.4 formulas. */
typedef struct {
  fe X, Y, Z, T;
} ge;

static void ge_add(ge *r, const ge *p, const ge *q) {
  fe a, b, c, d, e, f, g, h, t;
  fe_sub(a, p->Y, p->X);
  fe_sub(t, q->Y, q->X);
  fe_mul(a, a, t);
  fe_add(b, p->Y, p->X);
  fe_add(t, q->Y, q->X);
  fe_mul(b, b, t);
  fe_mul(c, p->T, q->T);
  fe_mul(c, c, D2);
  fe_mul(d, p->Z, q->Z);
  fe_add(d, d, d);
  fe_sub(e, b, a);
  fe_sub(f, d, c);
  fe_add(g, d, c);
  fe_add(h, b, a);
  fe_mul(r->X, e, f);
  fe_mul(r->Y, g, h);
  fe_mul(r->T, e, h);
  fe_mul(r->Z, f, g);
}

static void ge_dbl(ge *r, const ge *p) {
  fe a, b, c, e, f, g, h, t;
  fe_sq(a, p->X);
  fe_sq(b, p->Y);
  fe_sq(c, p->Z);
  fe_add(c, c, c);
  fe_add(h, a, b);
  fe_add(t, p->X, p->Y);
  fe_sq(t, t);
  fe_sub(e, h, t);
  fe_sub(g, a, b);
  fe_add(f, c, g);
  fe_mul(r->X, e, f);
  fe_mul(r->Y, g, h);
  fe_mul(r->T, e, h);
  fe_mul(r->Z, f, g);
}

/*
 * libsodium's Elligator 2 (ge25519_from_uniform before the cofactor), as a projective Edwards
 * point (X : Y : Z) whose affine x still has an arbitrary sign. Returns 0 on an exceptional input.
 */
static int elligator2_projective(fe X, fe Y, fe Z, const uint8_t r[32]) {
  fe t, t2, d, n, den, cand, chk, w, v1, v2, xn, xn2, v, tmp, xpd, xmd;
  fe_frombytes(t, r);
  /* x1 = −A / d with d = 1 + 2t² (never 0: −1/2 is not a square mod p). */
  fe_sq(t2, t);
  fe_add(d, t2, t2);
  fe_1(tmp);
  fe_add(d, d, tmp);
  /* g(x1) = N / D with N = −A(A² − A²d + d²) and D = d³. */
  fe a2, a2d;
  fe_sq(a2, MONT_A);
  fe_mul(a2d, a2, d);
  fe_sub(n, a2, a2d);
  fe_sq(tmp, d);
  fe_add(n, n, tmp);
  fe_mul(n, n, MINUS_A);
  fe_mul(den, tmp, d);
  /* cand = (N/D)^((p+3)/8) = N·D³·(N·D⁷)^((p−5)/8), one exponentiation (RFC 9380 App. F.2.1.2). */
  fe d3 = {0}, d7 = {0};
  fe_sq(tmp, den);
  fe_mul(d3, tmp, den);
  fe_sq(tmp, tmp);
  fe_mul(d7, tmp, d3);
  fe_mul(tmp, n, d7);
  fe_pow22523(cand, tmp);
  fe_mul(cand, cand, n);
  fe_mul(cand, cand, d3);
  /* D·cand² = ±N: g(x1) is a square with root cand or cand·√−1. */
  fe nneg, dc2;
  fe_neg(nneg, n);
  fe_sq(chk, cand);
  fe_mul(dc2, chk, den);
  const uint64_t root_plain = fe_eq(dc2, n);
  const uint64_t root_twisted = fe_eq(dc2, nneg);
  const uint64_t square = root_plain | root_twisted;
  fe_copy(v1, cand);
  fe_mul(tmp, cand, SQRT_M1);
  fe_cmov(v1, tmp, root_twisted);
  /* Otherwise g(x2) = 2t²·g(x1) with x2 = 2t²·x1: its root is t·w or t·w·√−1, w = 2^((p+3)/8)·cand. */
  fe n2, n2neg;
  fe_mul(w, cand, SQRT_2_RATIO);
  fe_add(n2, n, n);
  fe_neg(n2neg, n2);
  fe_sq(chk, w);
  fe_mul(dc2, chk, den);
  fe_copy(v2, w);
  fe_mul(tmp, w, SQRT_M1);
  fe_cmov(v2, tmp, fe_eq(dc2, n2neg));
  fe_mul(v2, v2, t);
  /* u = xn / d: xn = −A (x1) or −A·2t² (x2). */
  fe_copy(xn, MINUS_A);
  fe_add(tmp, t2, t2);
  fe_mul(xn2, MINUS_A, tmp);
  fe_cmov(xn, xn2, 1 ^ square);
  fe_copy(v, v2);
  fe_cmov(v, v1, square);
  /* Montgomery (u, v) -> Edwards (c·u/v, (u−1)/(u+1)) = (c·xn·(xn+d) : (xn−d)·d·v : d·v·(xn+d)). */
  fe_add(xpd, xn, d);
  fe_sub(xmd, xn, d);
  fe_mul(X, EDWARDS_C, xn);
  fe_mul(X, X, xpd);
  fe_mul(tmp, d, v);
  fe_mul(Y, xmd, tmp);
  fe_mul(Z, tmp, xpd);
  return !fe_is0(Z);
}

/* Affine point with x's sign (the parity of its canonical encoding) set to `sign`. */
static void ge_from_affine_signed(ge *p, const fe x, const fe y, unsigned sign) {
  uint8_t s[32];
  fe nx;
  fe_copy(p->X, x);
  fe_tobytes(s, x);
  fe_neg(nx, x);
  fe_cmov(p->X, nx, (uint64_t)((s[0] & 1) ^ sign));
  fe_copy(p->Y, y);
  fe_1(p->Z);
  fe_mul(p->T, p->X, p->Y);
}

/* expand_message_xmd(msg, DST, 64, SHA-512) with the state after Z_pad precomputed. */
static void expand_xmd64(uint8_t out[64], const SHA512_CTX *after_zpad, const uint8_t *msg, size_t len,
                         const uint8_t *dst_prime, size_t dst_prime_len) {
  static const uint8_t lib_str[3] = {0, 64, 0};
  static const uint8_t one = 1;
  uint8_t b0[64];
  SHA512_CTX c = *after_zpad;
  SHA512_Update(&c, msg, len);
  SHA512_Update(&c, lib_str, 3);
  SHA512_Update(&c, dst_prime, dst_prime_len);
  SHA512_Final(b0, &c);
  SHA512_Init(&c);
  SHA512_Update(&c, b0, 64);
  SHA512_Update(&c, &one, 1);
  SHA512_Update(&c, dst_prime, dst_prime_len);
  SHA512_Final(out, &c);
}

/* One element up to the sum S = 8·E(r0) + 8·E(r1); writes Z + Y and Z − Y. 0 on an exceptional input. */
static int hash_element(fe num, fe den, const uint8_t uniform[64]) {
  fe X0, Y0, Z0, X1, Y1, Z1, inv, zinv, x, y;
  if (!elligator2_projective(X0, Y0, Z0, uniform)) return 0;
  if (!elligator2_projective(X1, Y1, Z1, uniform + 32)) return 0;
  /* One inversion for both maps: 1/Z0 = Z1/(Z0·Z1), 1/Z1 = Z0/(Z0·Z1). */
  fe_mul(inv, Z0, Z1);
  fe_invert(inv, inv);
  ge p0, p1, s;
  fe_mul(zinv, inv, Z1);
  fe_mul(x, X0, zinv);
  fe_mul(y, Y0, zinv);
  ge_from_affine_signed(&p0, x, y, uniform[31] >> 7);
  fe_mul(zinv, inv, Z0);
  fe_mul(x, X1, zinv);
  fe_mul(y, Y1, zinv);
  ge_from_affine_signed(&p1, x, y, uniform[63] >> 7);
  ge_add(&s, &p0, &p1);
  ge_dbl(&s, &s);
  ge_dbl(&s, &s);
  ge_dbl(&s, &s);
  fe_add(num, s.Z, s.Y);
  fe_sub(den, s.Z, s.Y);
  return !fe_is0(den);
}

/*
 * Hashes `count` messages (concatenated in `msgs`, message i ending at ends[i]) to packed
 * u-coordinates. Returns 0 when an element needs the reference path (exceptional input or the
 * identity), 1 on success.
 */
static int hash_batch(uint8_t *out, const uint8_t *msgs, const uint32_t *ends, size_t count, const uint8_t *dst,
                      size_t dst_len) {
  uint8_t dst_prime[256];
  memcpy(dst_prime, dst, dst_len);
  dst_prime[dst_len] = (uint8_t)dst_len;
  SHA512_CTX after_zpad;
  static const uint8_t zpad[128] = {0};
  SHA512_Init(&after_zpad);
  SHA512_Update(&after_zpad, zpad, sizeof(zpad));

  fe *num = malloc(count * sizeof(fe));
  fe *den = malloc(count * sizeof(fe));
  fe *prefix = malloc(count * sizeof(fe));
  int ok = num && den && prefix;
  uint8_t uniform[64];
  fe acc, inv, t;
  fe_1(acc);
  size_t start = 0;
  for (size_t i = 0; ok && i < count; i++) {
    expand_xmd64(uniform, &after_zpad, msgs + start, ends[i] - start, dst_prime, dst_len + 1);
    start = ends[i];
    ok = hash_element(num[i], den[i], uniform);
    fe_copy(prefix[i], acc);
    fe_mul(acc, acc, den[i]);
  }
  if (ok) {
    /* Montgomery's trick: one inversion of the product, then each 1/den from the prefixes. */
    fe_invert(inv, acc);
    for (size_t i = count; i-- > 0;) {
      fe_mul(t, inv, prefix[i]);
      fe_mul(inv, inv, den[i]);
      fe_mul(t, t, num[i]);
      fe_tobytes(out + 32 * i, t);
    }
  }
  explicit_bzero(uniform, sizeof(uniform));
  if (num) explicit_bzero(num, count * sizeof(fe));
  if (den) explicit_bzero(den, count * sizeof(fe));
  if (prefix) explicit_bzero(prefix, count * sizeof(fe));
  free(num);
  free(den);
  free(prefix);
  return ok;
}

/* hashToGroupPacked(messages: Uint8Array, ends: Uint32Array, dst: Uint8Array): Buffer | null */
static napi_value js_hash_to_group_packed(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) {
    napi_throw_type_error(env, NULL, "hashToGroupPacked expects (messages, ends, dst)");
    return NULL;
  }
  napi_typedarray_type types[3];
  size_t lengths[3];
  void *data[3];
  for (int i = 0; i < 3; i++) {
    bool is_ta = false;
    napi_is_typedarray(env, argv[i], &is_ta);
    if (!is_ta) {
      napi_throw_type_error(env, NULL, "hashToGroupPacked expects typed arrays");
      return NULL;
    }
    napi_get_typedarray_info(env, argv[i], &types[i], &lengths[i], &data[i], NULL, NULL);
  }
  if (types[0] != napi_uint8_array || types[1] != napi_uint32_array || types[2] != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "hashToGroupPacked expects (Uint8Array, Uint32Array, Uint8Array)");
    return NULL;
  }
  if (lengths[2] > 255) {
    napi_throw_range_error(env, NULL, "DST longer than 255 bytes");
    return NULL;
  }
  const uint32_t *ends = data[1];
  uint32_t prev = 0;
  for (size_t i = 0; i < lengths[1]; i++) {
    if (ends[i] < prev || ends[i] > lengths[0]) {
      napi_throw_range_error(env, NULL, "message ends must be non-decreasing and within the message bytes");
      return NULL;
    }
    prev = ends[i];
  }
  void *out;
  napi_create_buffer(env, lengths[1] * 32, &out, &result);
  if (lengths[1] > 0 && !hash_batch(out, data[0], ends, lengths[1], data[2], lengths[2])) napi_get_null(env, &result);
  return result;
}

/* Worker threads load the addon once each; the constants are computed once per process. */
static pthread_once_t constants_once = PTHREAD_ONCE_INIT;
static int constants_ok;
static void init_constants_once(void) { constants_ok = init_constants(); }

/* sha256IdsPacked(messages, ends, dst): SHA-256(len(dst) ‖ dst ‖ message_i) for each, packed 32 bytes
 * each (KKRT's ID digests; libs/crypto/src/kkrt-cuckoo.ts has the same in JS). */
static napi_value js_sha256_ids_packed(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_typedarray_type types[3];
  size_t lengths[3];
  void *data[3];
  for (int i = 0; i < 3; i++) {
    bool is_ta = false;
    if (i < (int)argc) napi_is_typedarray(env, argv[i], &is_ta);
    if (!is_ta) {
      napi_throw_type_error(env, NULL, "sha256IdsPacked expects (Uint8Array, Uint32Array, Uint8Array)");
      return NULL;
    }
    napi_get_typedarray_info(env, argv[i], &types[i], &lengths[i], &data[i], NULL, NULL);
  }
  if (types[0] != napi_uint8_array || types[1] != napi_uint32_array || types[2] != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "sha256IdsPacked expects (Uint8Array, Uint32Array, Uint8Array)");
    return NULL;
  }
  if (lengths[2] > 255) {
    napi_throw_range_error(env, NULL, "DST longer than 255 bytes");
    return NULL;
  }
  const uint32_t *ends = data[1];
  const uint8_t *msgs = data[0];
  uint32_t prev = 0;
  for (size_t i = 0; i < lengths[1]; i++) {
    if (ends[i] < prev || ends[i] > lengths[0]) {
      napi_throw_range_error(env, NULL, "message ends must be non-decreasing and within the message bytes");
      return NULL;
    }
    prev = ends[i];
  }
  uint8_t *out;
  napi_create_buffer(env, lengths[1] * 32, (void **)&out, &result);
  SHA256_CTX prefix, c;
  const uint8_t dst_len = (uint8_t)lengths[2];
  SHA256_Init(&prefix);
  SHA256_Update(&prefix, &dst_len, 1);
  SHA256_Update(&prefix, data[2], lengths[2]);
  size_t start = 0;
  for (size_t i = 0; i < lengths[1]; i++) {
    c = prefix;
    SHA256_Update(&c, msgs + start, ends[i] - start);
    SHA256_Final(out + 32 * i, &c);
    start = ends[i];
  }
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  pthread_once(&constants_once, init_constants_once);
  if (!constants_ok) {
    napi_throw_error(env, NULL, "h2c25519: constant self-check failed");
    return NULL;
  }
  napi_value fn;
  napi_create_function(env, "hashToGroupPacked", NAPI_AUTO_LENGTH, js_hash_to_group_packed, NULL, &fn);
  napi_set_named_property(env, exports, "hashToGroupPacked", fn);
  napi_create_function(env, "sha256IdsPacked", NAPI_AUTO_LENGTH, js_sha256_ids_packed, NULL, &fn);
  napi_set_named_property(env, exports, "sha256IdsPacked", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
