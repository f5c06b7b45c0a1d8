// TlsSession over in-memory pipes: handshake, data, close_notify, truncation, garbage, backpressure
// down to one byte per call (and the WANT_WRITE rule), the secure defaults refusing what they must,
// certificate verification failures by reason, SNI, ALPN and session tickets.
#include <gtest/gtest.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include <functional>
#include <random>

#include "tests/tls/tls_support.hpp"

namespace tunstack_test {
namespace {

using tls::Reason;
using tls::TlsSession;
using Phase = tls::TlsSession::Phase;

constexpr std::uint32_t kServerIp = 0xc6120002;  // 198.18.0.2, in the server certificate's SAN

std::vector<std::uint8_t> pattern(std::size_t n, std::uint64_t seed) {
    std::vector<std::uint8_t> v(n);
    std::mt19937_64 rng(seed);
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    return v;
}

struct Conn {
    Conn(std::shared_ptr<tls::ServerConfig> sc, std::shared_ptr<tls::ClientConfig> cc,
         tls::ClientTarget target = {"test.example", std::nullopt},
         const tls::SavedSession* resume = nullptr) {
        auto s = TlsSession::server(std::move(sc), pipe.server, &server_counters);
        EXPECT_TRUE(s.ok());
        server = std::move(*s);
        auto c = TlsSession::client(std::move(cc), pipe.client, target, &client_counters, resume);
        EXPECT_TRUE(c.ok());
        client = std::move(*c);
    }
    void handshake() { pump(*client, *server, pipe); }

    // Moves `data` from `from` to `to` through the pipe; returns what `to` read.
    std::vector<std::uint8_t> transfer(TlsSession& from, TlsSession& to,
                                       const std::vector<std::uint8_t>& data,
                                       std::size_t read_chunk = 4096) {
        std::vector<std::uint8_t> got;
        std::vector<std::uint8_t> buf(read_chunk);
        std::size_t sent = 0;
        int idle = 0;
        while (got.size() < data.size() && idle < 1000) {
            const auto before =
                std::make_tuple(pipe.to_server.total, pipe.to_client.total,
                                pipe.to_server.bytes.size(), pipe.to_client.bytes.size());
            bool progress = false;
            if (sent < data.size()) {
                auto n = from.write(stack::Bytes(data).subspan(sent));
                EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().message());
                if (!n.ok()) break;
                sent += *n;
                progress = progress || *n > 0;
            }
            from.advance();
            for (;;) {
                auto n = to.read(stack::MutBytes(buf));
                EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().message());
                if (!n.ok() || *n == 0) break;
                got.insert(got.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
                progress = true;
            }
            progress =
                progress ||
                before != std::make_tuple(pipe.to_server.total, pipe.to_client.total,
                                          pipe.to_server.bytes.size(), pipe.to_client.bytes.size());
            idle = progress ? 0 : idle + 1;
        }
        return got;
    }

    Pipe pipe;
    tls::TlsStats server_counters, client_counters;
    std::unique_ptr<TlsSession> server, client;
};

TestPki& pki() { return TestPki::get(); }

TEST(TlsSession, HandshakeNegotiatesTls12EcdheAeadAndAlpn) {
    Conn c(pki().server_config({&pki().server}), pki().client_config());
    c.handshake();
    ASSERT_EQ(c.client->phase(), Phase::Open) << c.client->error()->message();
    ASSERT_EQ(c.server->phase(), Phase::Open);
    EXPECT_EQ(c.client->version(), "TLSv1.2");
    EXPECT_EQ(c.client->ciphersuite(), "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256");
    EXPECT_EQ(c.server->alpn(), "http/1.1");
    EXPECT_EQ(c.client->alpn(), "http/1.1");
    EXPECT_EQ(c.client->verify_flags(), 0u);
    EXPECT_FALSE(c.client->resumed());
    EXPECT_EQ(c.server_counters.handshakes_ok, 1u);
    EXPECT_EQ(c.client_counters.handshakes_ok, 1u);
    EXPECT_EQ(c.server_counters.sessions_active, 1u);
}

TEST(TlsSession, DataBothWaysAndCloseNotifyBothWays) {
    Conn c(pki().server_config({&pki().server}), pki().client_config());
    c.handshake();
    const auto up = pattern(300000, 1), down = pattern(200000, 2);
    EXPECT_EQ(c.transfer(*c.client, *c.server, up), up);
    EXPECT_EQ(c.transfer(*c.server, *c.client, down), down);

    c.client->close();
    pump(*c.client, *c.server, c.pipe);
    EXPECT_EQ(c.client->phase(), Phase::Closed);
    EXPECT_TRUE(c.pipe.to_server.closed);  // FIN after close_notify
    std::uint8_t buf[64];
    auto n = c.server->read(stack::MutBytes(buf));
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 0u);
    EXPECT_TRUE(c.server->peer_closed());
    EXPECT_EQ(c.server_counters.close_notify_received, 1u);
    EXPECT_EQ(c.client_counters.close_notify_sent, 1u);

    // RFC 5246 §7.2.1 has the other side answer with its close_notify at once; TLS 1.3 (RFC 8446
    // §6.1) allows it to finish sending first, and mbedTLS permits that too: the closing side keeps
    // reading until the peer's close_notify.
    const auto tail = pattern(5000, 3);
    std::size_t sent = 0;
    while (sent < tail.size()) {
        auto w = c.server->write(stack::Bytes(tail).subspan(sent));
        ASSERT_TRUE(w.ok());
        sent += *w;
        c.server->advance();
    }
    c.server->close();
    std::vector<std::uint8_t> got(8192);
    std::size_t total = 0;
    for (int i = 0; i < 100 && !c.client->peer_closed(); ++i) {
        c.server->advance();
        auto r = c.client->read(stack::MutBytes(got).subspan(total));
        ASSERT_TRUE(r.ok()) << r.error().message();
        total += *r;
    }
    EXPECT_EQ(c.server->phase(), Phase::Closed);
    EXPECT_EQ(c.server_counters.close_notify_sent, 1u);
    EXPECT_EQ(total, tail.size());
    EXPECT_TRUE(std::equal(tail.begin(), tail.end(), got.begin()));
    EXPECT_TRUE(c.client->peer_closed());
    EXPECT_EQ(c.client_counters.close_notify_received, 1u);
}

// Backpressure at its worst: every stream call moves one byte and the pipe holds one byte. The
// handshake, 64 KB each way (several full records, each interrupted by WANT_WRITE thousands of
// times) and the close all complete byte-exact.
TEST(TlsSession, OneByteAtATimeBothWays) {
    Conn c(pki().server_config({&pki().server}), pki().client_config());
    c.pipe.limit(1, 1);
    c.handshake();
    ASSERT_EQ(c.client->phase(), Phase::Open);
    ASSERT_EQ(c.server->phase(), Phase::Open);
    const auto up = pattern(65536 + 123, 4), down = pattern(70000, 5);
    EXPECT_EQ(c.transfer(*c.client, *c.server, up, 1), up);
    EXPECT_EQ(c.transfer(*c.server, *c.client, down, 7), down);
    c.client->close();
    c.server->close();
    pump(*c.client, *c.server, c.pipe);
    EXPECT_EQ(c.client->phase(), Phase::Closed);
    EXPECT_EQ(c.server->phase(), Phase::Closed);
    std::uint8_t b;
    ASSERT_TRUE(c.server->read(stack::MutBytes(&b, 1)).ok());
    EXPECT_TRUE(c.server->peer_closed());
}

// mbedtls_ssl_write's rule: after WANT_WRITE the same buffer must be passed again or bytes are
// lost. TlsSession reports the record's bytes as taken at that point, so the caller may pass
// anything next; here each call passes a different buffer (the next bytes of the message), and the
// receiver must still see exactly the concatenation of what write() reported as taken.
TEST(TlsSession, WantWriteCountsTheRecordAsTakenAndFlushesItFirst) {
    Conn c(pki().server_config({&pki().server}), pki().client_config());
    c.handshake();
    c.pipe.limit(3000, 1000);  // far less than one 16 KB record fits
    const auto data = pattern(100000, 6);
    std::size_t sent = 0;
    std::vector<std::uint8_t> got, buf(16384);
    int calls = 0, blocked_with_progress = 0;
    while (got.size() < data.size() && calls < 100000) {
        ++calls;
        if (sent < data.size()) {
            auto n = c.client->write(stack::Bytes(data).subspan(sent));
            ASSERT_TRUE(n.ok());
            if (*n > 0 && c.client->has_pending_output()) {
                ++blocked_with_progress;
                EXPECT_EQ(*n % 16384 == 0 || sent + *n == data.size(), true)
                    << "a WANT_WRITE takes whole records: " << *n;
            }
            sent += *n;
        }
        c.client->advance();  // what the owner does on a writable event: flush the record
        for (;;) {
            auto n = c.server->read(stack::MutBytes(buf));
            ASSERT_TRUE(n.ok());
            if (*n == 0) break;
            got.insert(got.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
        }
    }
    EXPECT_GT(blocked_with_progress, 3);
    ASSERT_EQ(got.size(), data.size());
    EXPECT_EQ(got, data);
}

TEST(TlsSession, FinWithoutCloseNotifyIsTruncation) {
    Conn c(pki().server_config({&pki().server}), pki().client_config());
    c.handshake();
    const auto data = pattern(1000, 7);
    EXPECT_EQ(c.transfer(*c.server, *c.client, data), data);
    c.pipe.server.shutdown_send();  // TCP FIN, no close_notify
    std::uint8_t buf[100];
    auto n = c.client->read(stack::MutBytes(buf));
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.error().reason, Reason::PeerClosed);
    EXPECT_EQ(c.client->phase(), Phase::Failed);
    EXPECT_EQ(c.client_counters.failed[static_cast<int>(Reason::PeerClosed)], 1u);
    EXPECT_NE(n.error().message().find("without close_notify"), std::string::npos);
}

// Not TLS at all (an HTTP request on the TLS port): the server fails (mbedTLS reads the first
// record header while parsing the ClientHello: bad_handshake) and answers with a fatal decode_error
// alert (mbedTLS itself sends none here) before the owner closes the connection.
TEST(TlsSession, GarbageGetsAFatalAlert) {
    Conn c(pki().server_config({&pki().server}), pki().client_config());
    const std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    c.pipe.to_server.bytes.assign(junk.begin(), junk.end());
    c.server->advance();
    ASSERT_EQ(c.server->phase(), Phase::Failed);
    EXPECT_EQ(c.server->error()->reason, Reason::BadHandshake);
    EXPECT_EQ(c.server_counters.handshake_failed[static_cast<int>(Reason::BadHandshake)], 1u);
    const auto& out = c.pipe.to_client.bytes;
    ASSERT_EQ(out.size(), 7u);  // one alert record: type 21, version, length 2, level, description
    EXPECT_EQ(out[0], 21);
    EXPECT_EQ(out[1], 3);  // regression: mbedTLS wrote version 0.0 before knowing the version
    EXPECT_EQ(out[2], 3);
    EXPECT_EQ(out[5], MBEDTLS_SSL_ALERT_LEVEL_FATAL);
    EXPECT_EQ(out[6], MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR);
}

TEST(TlsSession, TruncatedHandshakeEndsWithPeerClosed) {
    Conn c(pki().server_config({&pki().server}), pki().client_config());
    c.client->advance();  // ClientHello into the pipe
    auto& hello = c.pipe.to_server.bytes;
    ASSERT_GT(hello.size(), 50u);
    hello.resize(hello.size() / 2);
    c.pipe.to_server.closed = true;
    c.server->advance();
    ASSERT_EQ(c.server->phase(), Phase::Failed);
    EXPECT_EQ(c.server->error()->reason, Reason::PeerClosed);
    EXPECT_EQ(c.server_counters.handshake_failed[static_cast<int>(Reason::PeerClosed)], 1u);
}

TEST(TlsSession, ResetDuringHandshakeIsPeerReset) {
    Conn c(pki().server_config({&pki().server}), pki().client_config());
    c.client->advance();
    c.pipe.to_server.reset = true;
    c.server->advance();
    ASSERT_EQ(c.server->phase(), Phase::Failed);
    EXPECT_EQ(c.server->error()->reason, Reason::PeerReset);
    EXPECT_EQ(c.server_counters.handshake_failed[static_cast<int>(Reason::PeerReset)], 1u);
}

TEST(TlsSession, OwnerCanFailAStalledHandshake) {
    Conn c(pki().server_config({&pki().server}), pki().client_config());
    c.server->advance();
    c.server->fail(Reason::Timeout, "no ClientHello within 10 s");
    EXPECT_EQ(c.server->phase(), Phase::Failed);
    EXPECT_EQ(c.server_counters.handshake_failed[static_cast<int>(Reason::Timeout)], 1u);
    EXPECT_NE(c.server->error()->message().find("timed out"), std::string::npos);
}

// ---- what the secure defaults refuse
// ----------------------------------------------------------------

// A bare mbedTLS client configured as our API never would: old versions, CBC or static-RSA suites,
// other groups. Our server must refuse it.
class RawClient {
public:
    RawClient(PipeEnd& end, tls::Rng& rng, const std::function<void(mbedtls_ssl_config*)>& tweak)
        : end_(end) {
        mbedtls_ssl_config_init(&conf_);
        mbedtls_ssl_init(&ssl_);
        EXPECT_EQ(
            mbedtls_ssl_config_defaults(&conf_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT),
            0);
        mbedtls_ssl_conf_rng(&conf_, tls::Rng::random, &rng);
        mbedtls_ssl_conf_authmode(&conf_, MBEDTLS_SSL_VERIFY_NONE);
        tweak(&conf_);
        EXPECT_EQ(mbedtls_ssl_setup(&ssl_, &conf_), 0);
        mbedtls_ssl_set_bio(&ssl_, this, send, recv, nullptr);
    }
    ~RawClient() {
        mbedtls_ssl_free(&ssl_);
        mbedtls_ssl_config_free(&conf_);
    }
    int handshake() { return mbedtls_ssl_handshake(&ssl_); }
    mbedtls_ssl_context* ssl() { return &ssl_; }

private:
    static int send(void* p, const unsigned char* b, std::size_t n) {
        auto r = static_cast<RawClient*>(p)->end_.send(stack::Bytes(b, n));
        return r.ok() ? static_cast<int>(*r) : MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    static int recv(void* p, unsigned char* b, std::size_t n) {
        auto r = static_cast<RawClient*>(p)->end_.recv(stack::MutBytes(b, n));
        if (r.ok()) return static_cast<int>(*r);
        return r.error() == tls::StreamError::Eof ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
    }
    PipeEnd& end_;
    mbedtls_ssl_config conf_;
    mbedtls_ssl_context ssl_;
};

struct Refusal {
    const char* name;
    std::function<void(mbedtls_ssl_config*)> tweak;
    Reason expected;
};

class Refused : public ::testing::TestWithParam<int> {};

const std::vector<Refusal>& refusals() {
    static const int kCbc[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, 0};
    static const int kCbcSha1[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, 0};
    static const int kStaticRsa[] = {MBEDTLS_TLS_RSA_WITH_AES_128_GCM_SHA256, 0};
    static const int kEcdhStatic[] = {MBEDTLS_TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256, 0};
    static const mbedtls_ecp_group_id kP384[] = {MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_NONE};
    static const std::vector<Refusal> r = {
        {"cbc", [](mbedtls_ssl_config* c) { mbedtls_ssl_conf_ciphersuites(c, kCbc); },
         Reason::NoSharedCipher},
        {"cbc_sha1", [](mbedtls_ssl_config* c) { mbedtls_ssl_conf_ciphersuites(c, kCbcSha1); },
         Reason::NoSharedCipher},
        {"static_rsa", [](mbedtls_ssl_config* c) { mbedtls_ssl_conf_ciphersuites(c, kStaticRsa); },
         Reason::NoSharedCipher},
        {"static_ecdh",
         [](mbedtls_ssl_config* c) { mbedtls_ssl_conf_ciphersuites(c, kEcdhStatic); },
         Reason::NoSharedCipher},
        {"only_p384", [](mbedtls_ssl_config* c) { mbedtls_ssl_conf_curves(c, kP384); },
         Reason::NoSharedCipher},
        {"tls1_1",
         [](mbedtls_ssl_config* c) {
             mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3,
                                          MBEDTLS_SSL_MINOR_VERSION_1);
             mbedtls_ssl_conf_max_version(c, MBEDTLS_SSL_MAJOR_VERSION_3,
                                          MBEDTLS_SSL_MINOR_VERSION_2);
         },
         Reason::BadVersion},
        {"tls1_0",
         [](mbedtls_ssl_config* c) {
             mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3,
                                          MBEDTLS_SSL_MINOR_VERSION_1);
             mbedtls_ssl_conf_max_version(c, MBEDTLS_SSL_MAJOR_VERSION_3,
                                          MBEDTLS_SSL_MINOR_VERSION_1);
         },
         Reason::BadVersion},
    };
    return r;
}

TEST_P(Refused, ServerRefusesWithAnAlert) {
    const Refusal& r = refusals()[static_cast<std::size_t>(GetParam())];
    Pipe pipe;
    tls::TlsStats counters;
    auto server = TlsSession::server(pki().server_config({&pki().server}), pipe.server, &counters);
    ASSERT_TRUE(server.ok());
    RawClient raw(pipe.client, *pki().rng, r.tweak);
    int ret = MBEDTLS_ERR_SSL_WANT_READ;
    for (int i = 0;
         i < 50 && (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE); ++i) {
        ret = raw.handshake();
        (*server)->advance();
    }
    EXPECT_EQ((*server)->phase(), Phase::Failed) << r.name;
    ASSERT_TRUE((*server)->error().has_value());
    EXPECT_EQ((*server)->error()->reason, r.expected)
        << r.name << ": " << (*server)->error()->message();
    EXPECT_EQ(counters.handshake_failed[static_cast<int>(r.expected)], 1u);
    // The client learnt why: a fatal alert, not a silent close.
    EXPECT_EQ(ret, MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) << r.name << ": client got " << ret;
}

INSTANTIATE_TEST_SUITE_P(SecureDefaults, Refused, ::testing::Range(0, 7),
                         [](const ::testing::TestParamInfo<int>& info) {
                             return std::string(
                                 refusals()[static_cast<std::size_t>(info.param)].name);
                         });

TEST(TlsSession, EachAllowedSuiteWorks) {
    static const int kSuites[][2] = {
        {MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 0},
        {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 0},
        {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, 0},
    };
    // The certificate's curve (P-256) must be among the client's groups in TLS 1.2 (RFC 8422 §5.1),
    // so "X25519" means X25519 preferred with P-256 allowed for the signature.
    static const mbedtls_ecp_group_id kGroups[][3] = {
        {MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE},
        {MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE, MBEDTLS_ECP_DP_NONE}};
    for (const auto& suite : kSuites) {
        for (const auto& group : kGroups) {
            Pipe pipe;
            auto server =
                TlsSession::server(pki().server_config({&pki().server}), pipe.server, nullptr);
            ASSERT_TRUE(server.ok());
            RawClient raw(pipe.client, *pki().rng, [&](mbedtls_ssl_config* c) {
                mbedtls_ssl_conf_ciphersuites(c, suite);
                mbedtls_ssl_conf_curves(c, group);
            });
            int ret = MBEDTLS_ERR_SSL_WANT_READ;
            for (int i = 0; i < 50 && ret != 0; ++i) {
                ret = raw.handshake();
                (*server)->advance();
            }
            EXPECT_EQ(ret, 0) << mbedtls_ssl_get_ciphersuite_name(suite[0]);
            EXPECT_EQ((*server)->phase(), Phase::Open)
                << ((*server)->error() ? (*server)->error()->message() : "");
            EXPECT_EQ(mbedtls_ssl_get_ciphersuite(raw.ssl()),
                      std::string(mbedtls_ssl_get_ciphersuite_name(suite[0])));
        }
    }
}

// Regression: with a certificate whose curve the client offers (here an ECDSA P-384 certificate)
// but no ECDHE group in common, mbedTLS picks the suite, sends ServerHello and Certificate, then
// fails without an alert when it looks for the ECDHE group. The session sends handshake_failure
// itself.
TEST(TlsSession, NoCommonGroupAfterTheSuiteWasChosenStillGetsAnAlert) {
    static const mbedtls_ecp_group_id kP384[] = {MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_NONE};
    Pipe pipe;
    tls::TlsStats counters;
    auto server = TlsSession::server(pki().server_config({&pki().p384}), pipe.server, &counters);
    ASSERT_TRUE(server.ok());
    RawClient raw(pipe.client, *pki().rng,
                  [](mbedtls_ssl_config* c) { mbedtls_ssl_conf_curves(c, kP384); });
    int ret = MBEDTLS_ERR_SSL_WANT_READ;
    for (int i = 0;
         i < 50 && (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE); ++i) {
        ret = raw.handshake();
        (*server)->advance();
    }
    ASSERT_EQ((*server)->phase(), Phase::Failed);
    EXPECT_EQ((*server)->error()->reason, Reason::NoSharedCipher);
    EXPECT_EQ(ret, MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE);
    EXPECT_EQ(raw.ssl()->in_msg[1], MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
}

// ---- verification
// -----------------------------------------------------------------------------------

struct VerifyCase {
    const tls::GeneratedCert* cert;
    tls::ClientTarget target;
    tls::VerifyFailure expected;
};

void expect_verify(const VerifyCase& v, const char* what) {
    Conn c(pki().server_config({v.cert}), pki().client_config(), v.target);
    c.handshake();
    if (v.expected == tls::VerifyFailure::None) {
        EXPECT_EQ(c.client->phase(), Phase::Open)
            << what << ": " << (c.client->error() ? c.client->error()->message() : "");
        return;
    }
    ASSERT_EQ(c.client->phase(), Phase::Failed) << what;
    const tls::Error& e = *c.client->error();
    EXPECT_EQ(e.reason, Reason::BadCertificate) << what << ": " << e.message();
    EXPECT_EQ(tls::verify_failure(e.verify_flags), v.expected) << what << ": " << e.message();
    EXPECT_EQ(c.client_counters.handshake_failed[static_cast<int>(Reason::BadCertificate)], 1u);
    // The server hears about it through the client's alert.
    EXPECT_EQ(c.server->phase(), Phase::Failed) << what;
    EXPECT_EQ(c.server->error()->reason, Reason::AlertReceived) << what;
}

TEST(TlsVerify, GoodCertificateByNameByWildcardAndByAddress) {
    expect_verify({&pki().server, {"test.example", std::nullopt}, tls::VerifyFailure::None},
                  "name");
    expect_verify({&pki().server, {"a.wild.example", std::nullopt}, tls::VerifyFailure::None},
                  "wildcard");
    expect_verify({&pki().server, {"", kServerIp}, tls::VerifyFailure::None}, "ip");
}

TEST(TlsVerify, FailuresNameTheirReason) {
    expect_verify({&pki().untrusted, {"test.example", std::nullopt}, tls::VerifyFailure::Untrusted},
                  "untrusted");
    expect_verify({&pki().expired, {"test.example", std::nullopt}, tls::VerifyFailure::Expired},
                  "expired");
    expect_verify({&pki().server, {"wrong.example", std::nullopt}, tls::VerifyFailure::WrongName},
                  "wrong name");
    expect_verify(
        {&pki().server, {"a.b.wild.example", std::nullopt}, tls::VerifyFailure::WrongName},
        "wildcard spans one label");
    expect_verify({&pki().server, {"", 0xc6120009}, tls::VerifyFailure::WrongName}, "wrong ip");
}

TEST(TlsVerify, MessageSaysWhy) {
    Conn c(pki().server_config({&pki().expired}), pki().client_config());
    c.handshake();
    ASSERT_TRUE(c.client->error().has_value());
    const std::string m = c.client->error()->message();
    EXPECT_NE(m.find("certificate verification failed"), std::string::npos) << m;
    EXPECT_NE(m.find("expired"), std::string::npos) << m;
}

TEST(TlsVerify, InsecureAcceptsAnything) {
    Conn c(pki().server_config({&pki().untrusted}), pki().client_config(false),
           {"wrong.example", std::nullopt});
    c.handshake();
    EXPECT_EQ(c.client->phase(), Phase::Open);
}

// ---- SNI, ALPN, tickets
// ---------------------------------------------------------------------------

TEST(TlsServer, SniPicksTheCertificateForTheName) {
    auto config = pki().server_config({&pki().server, &pki().second});
    // Each name verifies only against its own certificate: a wrong pick fails with wrong name.
    for (const char* name : {"test.example", "other.example"}) {
        Conn c(config, pki().client_config(), {name, std::nullopt});
        c.handshake();
        EXPECT_EQ(c.client->phase(), Phase::Open)
            << name << ": " << (c.client->error() ? c.client->error()->message() : "");
    }
    // An unknown name gets the first certificate (and fails the name check, as it should).
    Conn c(config, pki().client_config(), {"unknown.example", std::nullopt});
    c.handshake();
    ASSERT_EQ(c.client->phase(), Phase::Failed);
    EXPECT_EQ(tls::verify_failure(c.client->error()->verify_flags), tls::VerifyFailure::WrongName);
}

TEST(TlsServer, AlpnMismatchIsRefused) {
    Conn c(pki().server_config({&pki().server}), pki().client_config(true, {"h2"}));
    c.handshake();
    ASSERT_EQ(c.server->phase(), Phase::Failed);
    EXPECT_EQ(c.server->error()->reason, Reason::NoApplicationProtocol);
    EXPECT_EQ(c.server_counters.handshake_failed[static_cast<int>(Reason::NoApplicationProtocol)],
              1u);
    EXPECT_EQ(c.client->phase(), Phase::Failed);
    EXPECT_EQ(c.client->error()->reason, Reason::AlertReceived);
    EXPECT_EQ(c.client->error()->alert, MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL);
}

TEST(TlsServer, SessionTicketResumes) {
    auto tickets = pki().tickets();
    auto config = pki().server_config({&pki().server}, tickets);
    tls::SavedSession saved;
    {
        Conn c(config, pki().client_config());
        c.handshake();
        ASSERT_EQ(c.client->phase(), Phase::Open);
        EXPECT_FALSE(c.server->resumed());
        ASSERT_TRUE(c.client->save(saved));
    }
    Conn again(config, pki().client_config(), {"test.example", std::nullopt}, &saved);
    again.handshake();
    ASSERT_EQ(again.client->phase(), Phase::Open);
    EXPECT_TRUE(again.server->resumed());
    EXPECT_TRUE(again.client->resumed());
    EXPECT_EQ(again.server_counters.handshakes_resumed, 1u);
    const auto data = pattern(20000, 9);
    EXPECT_EQ(again.transfer(*again.client, *again.server, data), data);

    // A reloaded configuration that keeps the ticket keys still resumes (tunstackd's SIGHUP).
    auto reloaded = pki().server_config({&pki().second, &pki().server}, tickets);
    Conn after_reload(reloaded, pki().client_config(), {"test.example", std::nullopt}, &saved);
    after_reload.handshake();
    ASSERT_EQ(after_reload.client->phase(), Phase::Open);
    EXPECT_TRUE(after_reload.server->resumed());

    // Other ticket keys (another server, or after the key was rotated twice): a full handshake,
    // not a failure.
    auto other = pki().server_config({&pki().server}, pki().tickets());
    Conn fresh(other, pki().client_config(), {"test.example", std::nullopt}, &saved);
    fresh.handshake();
    ASSERT_EQ(fresh.client->phase(), Phase::Open);
    EXPECT_FALSE(fresh.server->resumed());
    EXPECT_FALSE(fresh.client->resumed());
}

TEST(TlsServer, NoTicketsWithoutTicketKeys) {
    auto config = pki().server_config({&pki().server});
    tls::SavedSession saved;
    {
        Conn c(config, pki().client_config());
        c.handshake();
        ASSERT_TRUE(c.client->save(saved));
    }
    Conn again(config, pki().client_config(), {"test.example", std::nullopt}, &saved);
    again.handshake();
    ASSERT_EQ(again.client->phase(), Phase::Open);
    EXPECT_FALSE(again.server->resumed());
}

// ---- configuration errors
// --------------------------------------------------------------------------

TEST(TlsConfig, KeyThatDoesNotMatchTheCertificateIsRefused) {
    auto ck = tls::CertKey::from_pem(pki().server.cert_pem, pki().second.key_pem, *pki().rng, "x");
    ASSERT_FALSE(ck.ok());
    EXPECT_NE(ck.error().find("does not match"), std::string::npos) << ck.error();
}

TEST(TlsConfig, GarbagePemIsRefused) {
    auto ck = tls::CertKey::from_pem("not a certificate", pki().server.key_pem, *pki().rng, "x");
    ASSERT_FALSE(ck.ok());
    EXPECT_NE(ck.error().find("not a valid PEM certificate"), std::string::npos) << ck.error();
    auto k = tls::CertKey::from_pem(pki().server.cert_pem, "-----BEGIN EC PRIVATE KEY-----\nxx\n",
                                    *pki().rng, "x");
    ASSERT_FALSE(k.ok());
    EXPECT_NE(k.error().find("private key"), std::string::npos) << k.error();
}

TEST(TlsConfig, UnreadableFilesNameTheFlag) {
    auto ck = tls::CertKey::from_files("/nonexistent/cert.pem", "/nonexistent/key.pem", *pki().rng);
    ASSERT_FALSE(ck.ok());
    EXPECT_EQ(ck.error(), "--cert /nonexistent/cert.pem: cannot read: No such file or directory");
    auto dir = tls::CertKey::from_files("/", "/", *pki().rng);
    ASSERT_FALSE(dir.ok());
    EXPECT_EQ(dir.error(), "--cert /: cannot read: is a directory");
}

TEST(TlsConfig, NamesAndFingerprint) {
    auto ck = tls::CertKey::from_pem(pki().server.cert_pem, pki().server.key_pem, *pki().rng, "x");
    ASSERT_TRUE(ck.ok());
    EXPECT_EQ((*ck)->names(), (std::vector<std::string>{"test.example", "*.wild.example"}));
    EXPECT_TRUE((*ck)->matches("TEST.example"));
    EXPECT_TRUE((*ck)->matches("x.wild.example"));
    EXPECT_FALSE((*ck)->matches("wild.example"));
    EXPECT_EQ((*ck)->fingerprint().size(), 32u * 3 - 1);
    EXPECT_EQ((*ck)->subject(), "CN=test.example");
}

}  // namespace
}  // namespace tunstack_test
