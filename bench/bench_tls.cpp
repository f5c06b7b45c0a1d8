// TLS costs in mbedTLS and in tls::TlsSession, each next to a reference measured in the same run:
//
//   BM_Seal/<cipher>/<bytes>      raw AEAD encryption (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305)
//                                 of 1 KiB and 16 KiB (a full TLS record), MB/s
//   BM_SealOpen/chacha20poly1305  encryption + in-place decryption (as the record layer decrypts)
//                                 of one 16 KiB record: the reference for
//   BM_SessionTransfer/16384      16 KiB through TlsSession: client write (record built, sent into
//                                 an in-memory pipe) + server read (record parsed, decrypted);
//                                 `allocs` = C++ heap allocations per record
//   BM_X25519Keygen/Shared, BM_P256Keygen/Shared, BM_EcdsaP256Sign/Verify (a long-lived ECDSA
//                                 context), BM_PkSignP256/BM_PkVerifyP256 (through the pk layer
//                                 with the certificate's key, as the handshake does it)
//   BM_HandshakePkOps             exactly the public-key work of one full handshake, both ends
//                                 (ECDHE-ECDSA, P-256 certificate signed by a P-256 CA, X25519 key
//                                 exchange as OpenSSL clients negotiate): 2 X25519 key pairs, 2
//                                 X25519 shared secrets, 1 pk-layer sign, 2 pk-layer verifies
//   BM_ServerPkOps                the server's share (1 key pair, 1 shared secret, 1 sign):
//                                 bench/e2e/tls_throughput.sh's bound for handshakes per second
//   BM_Handshake/full, /resumed   complete in-memory handshakes through TlsSession (both ends in
//                                 this process), including session setup
//
// The ratios at the end say how far the TLS layer is from the raw crypto it wraps.
#include <benchmark/benchmark.h>
#include <mbedtls/chachapoly.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/gcm.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "bench/ratio_reporter.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tls/certgen.hpp"
#include "tls/config.hpp"
#include "tls/mbedtls_compat.hpp"
#include "tls/session.hpp"

namespace {

// ---- fixtures
// --------------------------------------------------------------------------------------

struct Fixture {
    std::shared_ptr<tls::Rng> rng;
    tls::GeneratedCert ca, server;
    std::shared_ptr<tls::ServerConfig> server_config;
    std::shared_ptr<tls::ClientConfig> client_config;

    static Fixture& get() {
        static Fixture f = make();
        return f;
    }

private:
    static Fixture make() {
        Fixture f;
        f.rng = *tls::Rng::create();
        tls::CertRequest ca;
        ca.common_name = "bench CA";
        ca.is_ca = true;
        f.ca = *tls::generate_cert(ca, *f.rng);
        tls::CertRequest srv;
        srv.common_name = "bench.test";
        srv.dns_names = {"bench.test"};
        srv.serial = 2;
        f.server = *tls::generate_cert(srv, *f.rng, &f.ca);
        std::vector<std::unique_ptr<tls::CertKey>> certs;
        auto ck = tls::CertKey::from_pem(f.server.cert_pem, f.server.key_pem, *f.rng, "bench");
        certs.push_back(std::move(*ck));
        auto tickets = *tls::TicketKeys::create(f.rng, tls::kDefaultTicketLifetimeS);
        f.server_config = *tls::ServerConfig::create(f.rng, std::move(certs), tickets, {});
        tls::ClientOptions o;
        o.ca_pem = f.ca.cert_pem;
        o.alpn = {"http/1.1"};
        f.client_config = *tls::ClientConfig::create(f.rng, o);
        return f;
    }
};

// An in-memory byte pipe (vector + read offset): cheap enough not to hide the TLS costs.
struct Buffer {
    std::vector<std::uint8_t> data;
    std::size_t head = 0;
    std::size_t size() const { return data.size() - head; }
};

class End final : public tls::ByteStream {
public:
    End(Buffer& in, Buffer& out) : in_(in), out_(out) {}
    stack::Result<std::size_t, tls::StreamError> send(stack::Bytes d) override {
        out_.data.insert(out_.data.end(), d.begin(), d.end());
        return d.size();
    }
    stack::Result<std::size_t, tls::StreamError> recv(stack::MutBytes o) override {
        const std::size_t n = std::min(o.size(), in_.size());
        if (n == 0) return stack::Err(tls::StreamError::WouldBlock);
        std::memcpy(o.data(), in_.data.data() + in_.head, n);
        in_.head += n;
        if (in_.head == in_.data.size()) {
            in_.data.clear();
            in_.head = 0;
        }
        return n;
    }
    void shutdown_send() override {}

private:
    Buffer& in_;
    Buffer& out_;
};

struct Link {
    Buffer to_server, to_client;
    End client{to_client, to_server}, server{to_server, to_client};
};

bool handshake(tls::TlsSession& c, tls::TlsSession& s) {
    for (int i = 0; i < 32; ++i) {
        c.advance();
        s.advance();
        if (c.phase() == tls::TlsSession::Phase::Open &&
            s.phase() == tls::TlsSession::Phase::Open) {
            return true;
        }
        if (c.phase() == tls::TlsSession::Phase::Failed ||
            s.phase() == tls::TlsSession::Phase::Failed) {
            return false;
        }
    }
    return false;
}

// ---- AEAD
// ------------------------------------------------------------------------------------------

enum class Cipher { Aes128Gcm, Aes256Gcm, ChaCha20Poly1305 };

class Aead {
public:
    explicit Aead(Cipher c) : cipher_(c) {
        std::array<unsigned char, 32> key{};
        for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i * 7);
        mbedtls_gcm_init(&gcm_);
        mbedtls_chachapoly_init(&chacha_);
        if (c == Cipher::ChaCha20Poly1305) {
            (void)mbedtls_chachapoly_setkey(&chacha_, key.data());
        } else {
            (void)mbedtls_gcm_setkey(&gcm_, MBEDTLS_CIPHER_ID_AES, key.data(),
                                     c == Cipher::Aes128Gcm ? 128 : 256);
        }
    }
    ~Aead() {
        mbedtls_gcm_free(&gcm_);
        mbedtls_chachapoly_free(&chacha_);
    }
    Aead(const Aead&) = delete;
    Aead& operator=(const Aead&) = delete;

    // TLS 1.2 shapes: a 12-byte nonce, 13 bytes of additional data, a 16-byte tag.
    int seal(const unsigned char* in, unsigned char* out, std::size_t n, unsigned char* tag) {
        if (cipher_ == Cipher::ChaCha20Poly1305) {
            return mbedtls_chachapoly_encrypt_and_tag(&chacha_, n, nonce_.data(), aad_.data(),
                                                      aad_.size(), in, out, tag);
        }
        return mbedtls_gcm_crypt_and_tag(&gcm_, MBEDTLS_GCM_ENCRYPT, n, nonce_.data(),
                                         nonce_.size(), aad_.data(), aad_.size(), in, out, 16, tag);
    }
    int open(const unsigned char* in, unsigned char* out, std::size_t n, const unsigned char* tag) {
        if (cipher_ == Cipher::ChaCha20Poly1305) {
            return mbedtls_chachapoly_auth_decrypt(&chacha_, n, nonce_.data(), aad_.data(),
                                                   aad_.size(), tag, in, out);
        }
        return mbedtls_gcm_auth_decrypt(&gcm_, n, nonce_.data(), nonce_.size(), aad_.data(),
                                        aad_.size(), tag, 16, in, out);
    }

private:
    Cipher cipher_;
    mbedtls_gcm_context gcm_;
    mbedtls_chachapoly_context chacha_;
    std::array<unsigned char, 12> nonce_{};
    std::array<unsigned char, 13> aad_{};
};

void BM_Seal(benchmark::State& state, Cipher c) {
    const auto n = static_cast<std::size_t>(state.range(0));
    Aead aead(c);
    std::vector<unsigned char> in(n, 0x5a), out(n);
    unsigned char tag[16];
    for (auto _ : state) {
        if (aead.seal(in.data(), out.data(), n, tag) != 0) state.SkipWithError("seal failed");
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void BM_SealOpen(benchmark::State& state, Cipher c) {
    const auto n = static_cast<std::size_t>(state.range(0));
    Aead aead(c);
    std::vector<unsigned char> in(n, 0x5a), sealed(n), out(n);
    unsigned char tag[16];
    for (auto _ : state) {
        if (aead.seal(in.data(), sealed.data(), n, tag) != 0 ||
            aead.open(sealed.data(), sealed.data(), n, tag) != 0) {
            state.SkipWithError("seal/open failed");
        }
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// 16 KiB of plaintext through two TlsSessions (ChaCha20-Poly1305, the suite the server prefers).
void BM_SessionTransfer(benchmark::State& state) {
    Fixture& f = Fixture::get();
    const auto n = static_cast<std::size_t>(state.range(0));
    Link link;
    auto s = tls::TlsSession::server(f.server_config, link.server, nullptr);
    auto c = tls::TlsSession::client(f.client_config, link.client, {"bench.test", std::nullopt},
                                     nullptr);
    if (!s || !c || !handshake(**c, **s)) {
        state.SkipWithError("handshake failed");
        return;
    }
    std::vector<std::uint8_t> data(n, 0x33), got(n);
    std::size_t allocs = 0;
    for (auto _ : state) {
        const std::uint64_t a0 = tunstack_test::allocation_count();
        std::size_t sent = 0, received = 0;
        while (sent < n) {
            auto w = (*c)->write(stack::Bytes(data).subspan(sent));
            if (!w || *w == 0) break;
            sent += *w;
        }
        while (received < n) {
            auto r = (*s)->read(stack::MutBytes(got).subspan(received));
            if (!r || *r == 0) break;
            received += *r;
        }
        allocs += tunstack_test::allocation_count() - a0;
        if (received != n) state.SkipWithError("transfer stalled");
    }
    // C++ heap allocations per record in TlsSession and the pipe (mbedTLS's own are calloc, not
    // counted here; its record path uses the buffers allocated at session setup).
    state.counters["allocs"] =
        static_cast<double>(allocs) / static_cast<double>(state.iterations());
    state.SetLabel(std::string((*c)->ciphersuite()));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// ---- public-key operations
// -------------------------------------------------------------------------

struct Ecdh {
    explicit Ecdh(mbedtls_ecp_group_id id) {
        mbedtls_ecp_group_init(&grp);
        mbedtls_mpi_init(&d);
        mbedtls_mpi_init(&z);
        mbedtls_ecp_point_init(&q);
        mbedtls_ecp_point_init(&peer);
        (void)mbedtls_ecp_group_load(&grp, id);
        mbedtls_mpi peer_d;
        mbedtls_mpi_init(&peer_d);
        Fixture& f = Fixture::get();
        (void)mbedtls_ecdh_gen_public(&grp, &peer_d, &peer, tls::Rng::random, f.rng.get());
        (void)mbedtls_ecdh_gen_public(&grp, &d, &q, tls::Rng::random, f.rng.get());
        mbedtls_mpi_free(&peer_d);
    }
    ~Ecdh() {
        mbedtls_ecp_point_free(&peer);
        mbedtls_ecp_point_free(&q);
        mbedtls_mpi_free(&z);
        mbedtls_mpi_free(&d);
        mbedtls_ecp_group_free(&grp);
    }
    Ecdh(const Ecdh&) = delete;
    Ecdh& operator=(const Ecdh&) = delete;
    int keygen() {
        return mbedtls_ecdh_gen_public(&grp, &d, &q, tls::Rng::random, Fixture::get().rng.get());
    }
    int shared() {
        return mbedtls_ecdh_compute_shared(&grp, &z, &peer, &d, tls::Rng::random,
                                           Fixture::get().rng.get());
    }
    mbedtls_ecp_group grp;
    mbedtls_mpi d, z;
    mbedtls_ecp_point q, peer;
};

struct Ecdsa {
    Ecdsa() {
        mbedtls_ecdsa_init(&ctx);
        (void)mbedtls_ecdsa_genkey(&ctx, MBEDTLS_ECP_DP_SECP256R1, tls::Rng::random,
                                   Fixture::get().rng.get());
        hash.fill(0x42);
        (void)sign();
    }
    ~Ecdsa() { mbedtls_ecdsa_free(&ctx); }
    Ecdsa(const Ecdsa&) = delete;
    Ecdsa& operator=(const Ecdsa&) = delete;
    int sign() {
        return tls::compat::ecdsa_sign(&ctx, hash.data(), hash.size(), sig.data(), sig.size(),
                                       &sig_len, tls::Rng::random, Fixture::get().rng.get());
    }
    int verify() {
        return mbedtls_ecdsa_read_signature(&ctx, hash.data(), hash.size(), sig.data(), sig_len);
    }
    mbedtls_ecdsa_context ctx;
    std::array<unsigned char, 32> hash{};
    std::array<unsigned char, MBEDTLS_ECDSA_MAX_LEN> sig{};
    std::size_t sig_len = 0;
};

// ECDSA P-256 through the pk layer with the server certificate's key, as the TLS handshake signs
// (ServerKeyExchange) and verifies (certificate chain, ServerKeyExchange). In mbedTLS 2.28 the pk
// layer copies the key into a fresh ECDSA context per call, so the comb table for the generator is
// recomputed each time: these are slower than BM_EcdsaP256Sign/Verify on a long-lived context.
struct PkEcdsa {
    PkEcdsa() {
        Fixture& f = Fixture::get();
        mbedtls_pk_init(&key);
        mbedtls_x509_crt_init(&crt);
        (void)tls::compat::parse_key(
            &key, reinterpret_cast<const unsigned char*>(f.server.key_pem.c_str()),
            f.server.key_pem.size() + 1, tls::Rng::random, f.rng.get());
        (void)mbedtls_x509_crt_parse(
            &crt, reinterpret_cast<const unsigned char*>(f.server.cert_pem.c_str()),
            f.server.cert_pem.size() + 1);
        hash.fill(0x42);
        (void)sign();
    }
    ~PkEcdsa() {
        mbedtls_x509_crt_free(&crt);
        mbedtls_pk_free(&key);
    }
    PkEcdsa(const PkEcdsa&) = delete;
    PkEcdsa& operator=(const PkEcdsa&) = delete;
    int sign() {
        return tls::compat::pk_sign(&key, hash.data(), hash.size(), sig.data(), sig.size(),
                                    &sig_len, tls::Rng::random, Fixture::get().rng.get());
    }
    int verify() {
        return mbedtls_pk_verify(&crt.pk, MBEDTLS_MD_SHA256, hash.data(), hash.size(), sig.data(),
                                 sig_len);
    }
    mbedtls_pk_context key;
    mbedtls_x509_crt crt;
    std::array<unsigned char, 32> hash{};
    std::array<unsigned char, MBEDTLS_PK_SIGNATURE_MAX_SIZE> sig{};
    std::size_t sig_len = 0;
};

void check(benchmark::State& state, int ret) {
    if (ret != 0) state.SkipWithError("mbedTLS operation failed");
}

void BM_X25519Keygen(benchmark::State& state) {
    Ecdh e(MBEDTLS_ECP_DP_CURVE25519);
    for (auto _ : state) check(state, e.keygen());
}
void BM_X25519Shared(benchmark::State& state) {
    Ecdh e(MBEDTLS_ECP_DP_CURVE25519);
    for (auto _ : state) check(state, e.shared());
}
void BM_P256Keygen(benchmark::State& state) {
    Ecdh e(MBEDTLS_ECP_DP_SECP256R1);
    for (auto _ : state) check(state, e.keygen());
}
void BM_P256Shared(benchmark::State& state) {
    Ecdh e(MBEDTLS_ECP_DP_SECP256R1);
    for (auto _ : state) check(state, e.shared());
}
void BM_EcdsaP256Sign(benchmark::State& state) {
    Ecdsa e;
    for (auto _ : state) check(state, e.sign());
}
void BM_EcdsaP256Verify(benchmark::State& state) {
    Ecdsa e;
    for (auto _ : state) check(state, e.verify());
}

void BM_PkSignP256(benchmark::State& state) {
    PkEcdsa e;
    for (auto _ : state) check(state, e.sign());
}
void BM_PkVerifyP256(benchmark::State& state) {
    PkEcdsa e;
    for (auto _ : state) check(state, e.verify());
}

void BM_HandshakePkOps(benchmark::State& state) {
    Ecdh client(MBEDTLS_ECP_DP_CURVE25519), server(MBEDTLS_ECP_DP_CURVE25519);
    PkEcdsa ecdsa;
    for (auto _ : state) {
        check(state, server.keygen());  // ServerKeyExchange
        check(state, ecdsa.sign());     // its signature
        check(state, client.keygen());  // ClientKeyExchange
        check(state, ecdsa.verify());   // the server certificate's signature by the CA
        check(state, ecdsa.verify());   // the ServerKeyExchange signature
        check(state, client.shared());
        check(state, server.shared());
    }
}

void BM_ServerPkOps(benchmark::State& state) {
    Ecdh server(MBEDTLS_ECP_DP_CURVE25519);
    PkEcdsa ecdsa;
    for (auto _ : state) {
        check(state, server.keygen());
        check(state, ecdsa.sign());
        check(state, server.shared());
    }
}

void BM_Handshake(benchmark::State& state, bool resume) {
    Fixture& f = Fixture::get();
    tls::SavedSession saved;
    if (resume) {
        Link link;
        auto s = tls::TlsSession::server(f.server_config, link.server, nullptr);
        auto c = tls::TlsSession::client(f.client_config, link.client, {"bench.test", std::nullopt},
                                         nullptr);
        if (!s || !c || !handshake(**c, **s) || !(*c)->save(saved)) {
            state.SkipWithError("first handshake failed");
            return;
        }
    }
    for (auto _ : state) {
        Link link;
        auto s = tls::TlsSession::server(f.server_config, link.server, nullptr);
        auto c = tls::TlsSession::client(f.client_config, link.client, {"bench.test", std::nullopt},
                                         nullptr, resume ? &saved : nullptr);
        if (!s || !c || !handshake(**c, **s) || (*s)->resumed() != resume) {
            state.SkipWithError("handshake failed");
            break;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    const std::pair<const char*, Cipher> ciphers[] = {
        {"aes128gcm", Cipher::Aes128Gcm},
        {"aes256gcm", Cipher::Aes256Gcm},
        {"chacha20poly1305", Cipher::ChaCha20Poly1305}};
    for (const auto& [name, cipher] : ciphers) {
        const Cipher c = cipher;
        benchmark::RegisterBenchmark((std::string("BM_Seal/") + name).c_str(),
                                     [c](benchmark::State& s) { BM_Seal(s, c); })
            ->Arg(1024)
            ->Arg(16384);
    }
    benchmark::RegisterBenchmark("BM_SealOpen/chacha20poly1305", [](benchmark::State& s) {
        BM_SealOpen(s, Cipher::ChaCha20Poly1305);
    })->Arg(16384);
    benchmark::RegisterBenchmark("BM_SessionTransfer", BM_SessionTransfer)->Arg(16384);
    benchmark::RegisterBenchmark("BM_X25519Keygen", BM_X25519Keygen);
    benchmark::RegisterBenchmark("BM_X25519Shared", BM_X25519Shared);
    benchmark::RegisterBenchmark("BM_P256Keygen", BM_P256Keygen);
    benchmark::RegisterBenchmark("BM_P256Shared", BM_P256Shared);
    benchmark::RegisterBenchmark("BM_EcdsaP256Sign", BM_EcdsaP256Sign);
    benchmark::RegisterBenchmark("BM_EcdsaP256Verify", BM_EcdsaP256Verify);
    benchmark::RegisterBenchmark("BM_PkSignP256", BM_PkSignP256);
    benchmark::RegisterBenchmark("BM_PkVerifyP256", BM_PkVerifyP256);
    benchmark::RegisterBenchmark("BM_HandshakePkOps", BM_HandshakePkOps);
    benchmark::RegisterBenchmark("BM_ServerPkOps", BM_ServerPkOps);
    benchmark::RegisterBenchmark("BM_Handshake/full",
                                 [](benchmark::State& s) { BM_Handshake(s, false); });
    benchmark::RegisterBenchmark("BM_Handshake/resumed",
                                 [](benchmark::State& s) { BM_Handshake(s, true); });
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    bench::RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    std::printf("\n");
    reporter.print_ratio("BM_SessionTransfer/16384", "BM_SealOpen/chacha20poly1305/16384",
                         "16 KiB through TlsSession write+read / raw seal+open of one record");
    reporter.print_ratio("BM_Handshake/full", "BM_HandshakePkOps",
                         "full handshake, both ends / its public-key operations");
    reporter.print_ratio("BM_Handshake/resumed", "BM_Handshake/full",
                         "resumed (ticket) handshake / full handshake");
    benchmark::Shutdown();
    return reporter.complete() ? 0 : 1;
}
