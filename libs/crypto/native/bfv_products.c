/*
 * SecureBoost's hot loop in native code (libs/crypto/src/bfv-native.ts; docs/protocol.md §5):
 * for each output, Σ_c chunk_c · onehot_c, where chunk_c is a BFV ciphertext (two polynomials in
 * coefficient form, residues modulo each data prime q_l of the ring Z_q[X]/(X^N + 1)) and onehot_c
 * is a plaintext Σ ±X^e (the feature party's bins).
 *
 * This is what SEAL's plainTransformToNtt + multiplyPlain + add + cipherTransformFromNtt compute:
 * the exact negacyclic products modulo each q_l, with a plaintext coefficient t − 1 lifted to
 * q_l − 1 (SEAL lifts the upper half of Z_t to negatives). Exact arithmetic has one answer, so the
 * result is SEAL's bit for bit (a test compares them); only the speed differs: 64-bit products
 * are one instruction here and emulated in WebAssembly.
 *
 * The NTT is the negacyclic Cooley–Tukey / Gentleman–Sande pair of Longa and Naehrig (2016),
 * powers of ψ (a primitive 2N-th root of unity mod q) in bit-reversed order, Shoup's precomputed
 * quotients for the fixed multiplicands. Forward transforms stay unreduced (below 2^51, see
 * ntt_forward_lazy), sums of products are kept in 128 bits (each product < 2^102 for q < 2^46; a
 * call refuses more than 2^25 chunks) and reduced once per output.
 *
 * No state outside a call: worker threads share this library's globals.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

#define MAX_PRIMES 4
#define MAX_LOG_DEGREE 15

typedef struct {
  uint64_t q;
  uint64_t *psi;      /* ψ^bitrev(k), k < N */
  uint64_t *psi_sh;   /* Shoup quotients floor(w · 2^64 / q) */
  uint64_t *ipsi;     /* ψ^-bitrev(k) */
  uint64_t *ipsi_sh;
  uint64_t n_inv, n_inv_sh;
} ntt_tables;

static uint64_t mul_mod(uint64_t a, uint64_t b, uint64_t q) { return (uint64_t)(((u128)a * b) % q); }

static uint64_t pow_mod(uint64_t b, uint64_t e, uint64_t q) {
  uint64_t r = 1;
  b %= q;
  while (e) {
    if (e & 1) r = mul_mod(r, b, q);
    b = mul_mod(b, b, q);
    e >>= 1;
  }
  return r;
}

static uint64_t shoup(uint64_t w, uint64_t q) { return (uint64_t)(((u128)w << 64) / q); }

/* x · w mod q for x < 2^64, w < q, with w' = shoup(w, q). */
static inline uint64_t mul_shoup(uint64_t x, uint64_t w, uint64_t w_sh, uint64_t q) {
  uint64_t hi = (uint64_t)(((u128)x * w_sh) >> 64);
  uint64_t r = x * w - hi * q;
  return r >= q ? r - q : r;
}

static inline uint64_t add_mod(uint64_t a, uint64_t b, uint64_t q) {
  uint64_t s = a + b;
  return s >= q ? s - q : s;
}

static inline uint64_t sub_mod(uint64_t a, uint64_t b, uint64_t q) { return a >= b ? a - b : a + q - b; }

static uint32_t bit_reverse(uint32_t x, int bits) {
  uint32_t r = 0;
  for (int i = 0; i < bits; i++) r |= ((x >> i) & 1u) << (bits - 1 - i);
  return r;
}

/* 0 on success; -1 when q is not a prime ≡ 1 mod 2N with a primitive 2N-th root (found by trial). */
static int tables_init(ntt_tables *t, uint64_t q, uint32_t n, int log_n) {
  memset(t, 0, sizeof(*t));
  t->q = q;
  if (q < 3 || q >= (1ULL << 46) || (q - 1) % (2ULL * n) != 0) return -1;
  uint64_t psi = 0;
  for (uint64_t g = 2; g < 1000 && !psi; g++) {
    uint64_t c = pow_mod(g, (q - 1) / (2ULL * n), q);
    if (pow_mod(c, n, q) == q - 1) psi = c;
  }
  if (!psi) return -1;
  uint64_t ipsi = pow_mod(psi, 2ULL * n - 1, q);
  t->psi = malloc(4 * n * sizeof(uint64_t));
  if (!t->psi) return -1;
  t->psi_sh = t->psi + n;
  t->ipsi = t->psi + 2 * n;
  t->ipsi_sh = t->psi + 3 * n;
  uint64_t p = 1, ip = 1;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t r = bit_reverse(k, log_n);
    t->psi[r] = p;
    t->ipsi[r] = ip;
    p = mul_mod(p, psi, q);
    ip = mul_mod(ip, ipsi, q);
  }
  for (uint32_t k = 0; k < n; k++) {
    t->psi_sh[k] = shoup(t->psi[k], q);
    t->ipsi_sh[k] = shoup(t->ipsi[k], q);
  }
  t->n_inv = pow_mod(n, q - 2, q);
  t->n_inv_sh = shoup(t->n_inv, q);
  return 0;
}

static void tables_free(ntt_tables *t) { free(t->psi); }

/*
 * Forward transform, Harvey's lazy butterflies: nothing is reduced, each stage adds at most 2q to
 * a value's bound (the Shoup product is below 2q whatever its input), so an input below q leaves
 * below (1 + 2·log N)·q < 2^51: what the 128-bit sums of products need, and no branch per butterfly.
 */
static void ntt_forward_lazy(uint64_t *a, uint32_t n, const ntt_tables *t) {
  const uint64_t q = t->q, two_q = 2 * q;
  uint32_t len = n;
  for (uint32_t m = 1; m < n; m <<= 1) {
    len >>= 1;
    for (uint32_t i = 0; i < m; i++) {
      const uint64_t w = t->psi[m + i], w_sh = t->psi_sh[m + i];
      uint64_t *x = a + 2 * i * len, *y = x + len;
      for (uint32_t j = 0; j < len; j++) {
        const uint64_t u = x[j];
        const uint64_t hi = (uint64_t)(((u128)y[j] * w_sh) >> 64);
        const uint64_t v = y[j] * w - hi * q; /* in [0, 2q) */
        x[j] = u + v;
        y[j] = u + two_q - v;
      }
    }
  }
}

static void ntt_inverse(uint64_t *a, uint32_t n, const ntt_tables *t) {
  const uint64_t q = t->q;
  uint32_t len = 1;
  for (uint32_t m = n; m > 1; m >>= 1) {
    uint32_t h = m >> 1;
    for (uint32_t i = 0; i < h; i++) {
      const uint64_t w = t->ipsi[h + i], w_sh = t->ipsi_sh[h + i];
      uint64_t *x = a + 2 * i * len, *y = x + len;
      for (uint32_t j = 0; j < len; j++) {
        uint64_t u = x[j], v = y[j];
        x[j] = add_mod(u, v, q);
        y[j] = mul_shoup(sub_mod(u, v, q), w, w_sh, q);
      }
    }
    len <<= 1;
  }
  for (uint32_t j = 0; j < n; j++) a[j] = mul_shoup(a[j], t->n_inv, t->n_inv_sh, q);
}

static int log2_exact(uint32_t n) {
  for (int k = 1; k <= MAX_LOG_DEGREE; k++)
    if ((1u << k) == n) return k;
  return -1;
}

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is_ta = false;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL);
  return type == want;
}

/*
 * SEAL's addPlain for BFV (multiply_add_plain_with_scaling_variant): c0 += round(Q·m / t) modulo
 * each q_l, computed as floor(Q/t)·m + floor(((Q mod t)·m + (t + 1)/2) / t). `scaling` holds
 * t, Q mod t, then floor(Q/t) mod q_l for each prime.
 */
static void add_scaled_plain(uint64_t *c0, const uint64_t *m, const uint64_t *primes, size_t n_primes, uint32_t n,
                             const uint64_t *scaling) {
  const uint64_t t = scaling[0], q_mod_t = scaling[1], half_up = (t + 1) / 2;
  for (uint32_t i = 0; i < n; i++) {
    const uint64_t fix = (uint64_t)(((u128)q_mod_t * m[i] + half_up) / t);
    for (size_t l = 0; l < n_primes; l++) {
      const uint64_t q = primes[l];
      const uint64_t scaled = (uint64_t)(((u128)scaling[2 + l] * m[i] + fix) % q);
      c0[l * n + i] = add_mod(c0[l * n + i], scaled, q);
    }
  }
}

/*
 * productSums(primes: BigUint64Array(L), chunks: BigUint64Array(C·2·L·N), terms: Int32Array,
 * termEnds: Uint32Array(outputs·C), masks: BigUint64Array(outputs·N), scaling: BigUint64Array(2 + L))
 * → BigUint64Array(outputs·2·L·N) | string.
 * Chunk c is polynomials (c0, c1), each L residue vectors of N coefficients (SEAL's layout).
 * Output o's one-hot for chunk c is terms[termEnds[o·C + c − 1] .. termEnds[o·C + c]); its mask
 * (residues modulo t) is added as SEAL's addPlain adds a plaintext.
 * Returns a string naming the problem instead of throwing for bad data (the caller throws).
 */
static napi_value js_product_sums(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7], result;
  uint64_t *primes, *chunks, *masks, *scaling;
  int32_t *terms;
  uint32_t *ends, outputs;
  size_t n_primes, chunk_words, n_terms, n_ends, mask_words, n_scaling;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 7 ||
      !typed(env, argv[0], napi_biguint64_array, (void **)&primes, &n_primes) ||
      !typed(env, argv[1], napi_biguint64_array, (void **)&chunks, &chunk_words) ||
      !typed(env, argv[2], napi_int32_array, (void **)&terms, &n_terms) ||
      !typed(env, argv[3], napi_uint32_array, (void **)&ends, &n_ends) ||
      !typed(env, argv[4], napi_biguint64_array, (void **)&masks, &mask_words) ||
      !typed(env, argv[5], napi_biguint64_array, (void **)&scaling, &n_scaling) ||
      napi_get_value_uint32(env, argv[6], &outputs) != napi_ok) {
    napi_throw_type_error(env, NULL,
                          "productSums expects (primes: BigUint64Array, chunks: BigUint64Array, terms: Int32Array, "
                          "termEnds: Uint32Array, masks: BigUint64Array, scaling: BigUint64Array, outputs: number)");
    return NULL;
  }
  const char *problem = NULL;
  if (n_primes < 1 || n_primes > MAX_PRIMES) problem = "between 1 and 4 primes are expected";
  else if (n_scaling != 2 + n_primes || scaling[0] < 2)
    problem = "the scaling constants are t, Q mod t and floor(Q/t) mod each prime";
  else if (outputs < 1 || n_ends % outputs != 0) problem = "one term range per output and chunk is expected";
  const size_t n_chunks = problem ? 0 : n_ends / outputs;
  if (!problem && (n_chunks < 1 || n_chunks > (1u << 25))) problem = "between 1 and 2^25 chunks are expected";
  const size_t per_chunk_words = n_chunks ? chunk_words / n_chunks : 0;
  const uint32_t n = (uint32_t)(per_chunk_words / (2 * n_primes));
  const int log_n = log2_exact(n);
  if (!problem && (log_n < 0 || (size_t)n * 2 * n_primes * n_chunks != chunk_words))
    problem = "the chunks are not 2 polynomials of a power-of-two degree per prime";
  if (!problem && mask_words != (size_t)outputs * n) problem = "one mask of N residues per output is expected";
  for (size_t i = 0; !problem && i < mask_words; i++)
    if (masks[i] >= scaling[0]) problem = "a mask residue is not below t";
  for (size_t i = 0; !problem && i < n_ends; i++)
    if (ends[i] > n_terms || (i > 0 && ends[i] < ends[i - 1])) problem = "term ends must be non-decreasing and within the terms";
  for (size_t i = 0; !problem && i < n_terms; i++)
    if (terms[i] >= (int32_t)n || terms[i] < -(int32_t)n) problem = "a one-hot exponent is outside the ring";
  if (problem) {
    napi_create_string_utf8(env, problem, NAPI_AUTO_LENGTH, &result);
    return result;
  }

  ntt_tables tables[MAX_PRIMES];
  size_t ready = 0;
  for (; ready < n_primes; ready++)
    if (tables_init(&tables[ready], primes[ready], n, log_n) != 0) break;
  const size_t poly = (size_t)n * n_primes; /* words of one polynomial (all primes) */
  uint64_t *prepared = ready == n_primes ? malloc(chunk_words * sizeof(uint64_t)) : NULL;
  uint64_t *plain = prepared ? malloc(poly * sizeof(uint64_t)) : NULL;
  u128 *acc = plain ? malloc(2 * poly * sizeof(u128)) : NULL;
  napi_value buffer;
  uint64_t *out = NULL;
  if (!acc) problem = ready == n_primes ? "out of memory" : "a prime is not below 2^46 with a 2N-th root of unity";
  else if (napi_create_arraybuffer(env, (size_t)outputs * 2 * poly * sizeof(uint64_t), (void **)&out, &buffer) != napi_ok)
    problem = "out of memory";

  /* Each chunk to the NTT domain once; every residue must be below its prime (as SEAL checks). */
  for (size_t c = 0; !problem && c < n_chunks; c++)
    for (size_t p = 0; !problem && p < 2; p++)
      for (size_t l = 0; !problem && l < n_primes; l++) {
        const size_t at = c * 2 * poly + p * poly + l * n;
        for (uint32_t j = 0; j < n; j++) {
          if (chunks[at + j] >= primes[l]) {
            problem = "a ciphertext coefficient is not reduced modulo its prime";
            break;
          }
          prepared[at + j] = chunks[at + j];
        }
        ntt_forward_lazy(prepared + at, n, &tables[l]);
      }

  for (uint32_t o = 0; !problem && o < outputs; o++) {
    memset(acc, 0, 2 * poly * sizeof(u128));
    for (size_t c = 0; c < n_chunks; c++) {
      const size_t k = (size_t)o * n_chunks + c;
      const uint32_t from = k == 0 ? 0 : ends[k - 1], to = ends[k];
      for (size_t l = 0; l < n_primes; l++) {
        uint64_t *pl = plain + l * n;
        const uint64_t q = primes[l];
        memset(pl, 0, n * sizeof(uint64_t));
        for (uint32_t i = from; i < to; i++) {
          const int32_t e = terms[i];
          if (e >= 0) pl[e] = 1;
          else pl[n + e] = q - 1; /* −X^(N+e): X^e = −X^(N+e) in the negacyclic ring */
        }
        ntt_forward_lazy(pl, n, &tables[l]);
        for (size_t p = 0; p < 2; p++) {
          const uint64_t *ct = prepared + c * 2 * poly + p * poly + l * n;
          u128 *a = acc + p * poly + l * n;
          for (uint32_t j = 0; j < n; j++) a[j] += (u128)ct[j] * pl[j];
        }
      }
    }
    uint64_t *dst = out + (size_t)o * 2 * poly;
    for (size_t p = 0; p < 2; p++)
      for (size_t l = 0; l < n_primes; l++) {
        const u128 *a = acc + p * poly + l * n;
        uint64_t *d = dst + p * poly + l * n;
        for (uint32_t j = 0; j < n; j++) d[j] = (uint64_t)(a[j] % primes[l]);
        ntt_inverse(d, n, &tables[l]);
      }
    add_scaled_plain(dst, masks + (size_t)o * n, primes, n_primes, n, scaling);
  }
  for (size_t l = 0; l < ready; l++) tables_free(&tables[l]);
  free(acc);
  free(plain);
  free(prepared);
  if (problem) {
    napi_create_string_utf8(env, problem, NAPI_AUTO_LENGTH, &result);
    return result;
  }
  napi_create_typedarray(env, napi_biguint64_array, (size_t)outputs * 2 * poly, buffer, 0, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "productSums", NAPI_AUTO_LENGTH, js_product_sums, NULL, &fn);
  napi_set_named_property(env, exports, "productSums", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
