// Helpers for the TLS unit tests: an in-memory byte pipe (both directions, any capacity, any number
// of bytes per call, EOF and reset), a test PKI generated once per process with tls::generate_cert
// (fixed validity dates: the "good" certificates last until 2099, the expired one ended in 2001),
// and a pump that drives two sessions until neither makes progress.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "tls/certgen.hpp"
#include "tls/config.hpp"
#include "tls/session.hpp"

namespace tunstack_test {

struct PipeBuffer {
    std::deque<std::uint8_t> bytes;
    std::size_t capacity = 1 << 20;
    std::size_t max_per_call = ~std::size_t{0};
    bool closed = false;  // the writer shut down its sending side
    bool reset = false;
    std::size_t total = 0;  // bytes ever written
};

class PipeEnd final : public tls::ByteStream {
public:
    PipeEnd(PipeBuffer& in, PipeBuffer& out) : in_(in), out_(out) {}
    stack::Result<std::size_t, tls::StreamError> send(stack::Bytes data) override {
        if (out_.reset || in_.reset) return stack::Err(tls::StreamError::Reset);
        if (out_.closed) return stack::Err(tls::StreamError::Closed);
        const std::size_t room = out_.capacity - std::min(out_.capacity, out_.bytes.size());
        const std::size_t n = std::min({data.size(), room, out_.max_per_call});
        if (n == 0) return stack::Err(tls::StreamError::WouldBlock);
        out_.bytes.insert(out_.bytes.end(), data.begin(), data.begin() + static_cast<long>(n));
        out_.total += n;
        ++sends;
        return n;
    }
    stack::Result<std::size_t, tls::StreamError> recv(stack::MutBytes out) override {
        if (in_.reset || out_.reset) return stack::Err(tls::StreamError::Reset);
        const std::size_t n = std::min({out.size(), in_.bytes.size(), in_.max_per_call});
        if (n == 0) {
            return stack::Err(in_.closed ? tls::StreamError::Eof : tls::StreamError::WouldBlock);
        }
        std::copy_n(in_.bytes.begin(), n, out.begin());
        in_.bytes.erase(in_.bytes.begin(), in_.bytes.begin() + static_cast<long>(n));
        return n;
    }
    void shutdown_send() override { out_.closed = true; }

    PipeBuffer& in() { return in_; }
    PipeBuffer& out() { return out_; }
    std::size_t sends = 0;

private:
    PipeBuffer& in_;
    PipeBuffer& out_;
};

// a = client end, b = server end.
struct Pipe {
    PipeBuffer to_server, to_client;
    PipeEnd client{to_client, to_server};
    PipeEnd server{to_server, to_client};
    void limit(std::size_t capacity, std::size_t per_call) {
        for (PipeBuffer* p : {&to_server, &to_client}) {
            p->capacity = capacity;
            p->max_per_call = per_call;
        }
    }
};

struct TestPki {
    std::shared_ptr<tls::Rng> rng;
    tls::GeneratedCert ca, other_ca;
    tls::GeneratedCert server;     // test.example, *.wild.example, 198.18.0.2; signed by ca
    tls::GeneratedCert second;     // other.example; signed by ca
    tls::GeneratedCert expired;    // test.example, valid 2000..2001; signed by ca
    tls::GeneratedCert untrusted;  // test.example; signed by other_ca
    tls::GeneratedCert p384;       // test.example with an ECDSA P-384 key; signed by ca

    static TestPki& get() {
        static TestPki pki = make();
        return pki;
    }

    std::shared_ptr<tls::ServerConfig> server_config(std::vector<const tls::GeneratedCert*> certs,
                                                     std::shared_ptr<tls::TicketKeys> tickets = {},
                                                     tls::ServerOptions options = {}) {
        std::vector<std::unique_ptr<tls::CertKey>> cks;
        for (const tls::GeneratedCert* g : certs) {
            auto ck = tls::CertKey::from_pem(g->cert_pem, g->key_pem, *rng, "test cert");
            EXPECT_TRUE(ck.ok()) << (ck.ok() ? "" : ck.error());
            cks.push_back(std::move(*ck));
        }
        auto c = tls::ServerConfig::create(rng, std::move(cks), std::move(tickets), options);
        EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error());
        return *c;
    }

    std::shared_ptr<tls::ClientConfig> client_config(bool verify = true,
                                                     std::vector<std::string> alpn = {"http/1.1"}) {
        tls::ClientOptions o;
        o.verify = verify;
        o.ca_pem = ca.cert_pem;
        o.alpn = std::move(alpn);
        auto c = tls::ClientConfig::create(rng, o);
        EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error());
        return *c;
    }

    std::shared_ptr<tls::TicketKeys> tickets() {
        auto t = tls::TicketKeys::create(rng, tls::kDefaultTicketLifetimeS);
        EXPECT_TRUE(t.ok());
        return *t;
    }

private:
    static tls::GeneratedCert gen(tls::Rng& rng, tls::CertRequest req,
                                  const tls::GeneratedCert* issuer) {
        auto g = tls::generate_cert(req, rng, issuer);
        if (!g.ok()) ADD_FAILURE() << g.error();
        return g.ok() ? *g : tls::GeneratedCert{};
    }
    static TestPki make() {
        TestPki p;
        auto rng = tls::Rng::create();
        if (!rng.ok()) ADD_FAILURE() << rng.error();
        p.rng = *rng;
        tls::CertRequest ca;
        ca.common_name = "tunstack test CA";
        ca.is_ca = true;
        p.ca = gen(*p.rng, ca, nullptr);
        ca.common_name = "some other CA";
        ca.serial = 2;
        p.other_ca = gen(*p.rng, ca, nullptr);
        tls::CertRequest srv;
        srv.common_name = "test.example";
        srv.dns_names = {"test.example", "*.wild.example"};
        srv.ipv4s = {0xc6120002};
        srv.serial = 10;
        p.server = gen(*p.rng, srv, &p.ca);
        tls::CertRequest second;
        second.common_name = "other.example";
        second.dns_names = {"other.example"};
        second.serial = 11;
        p.second = gen(*p.rng, second, &p.ca);
        tls::CertRequest expired = srv;
        expired.not_before = "20000101000000";
        expired.not_after = "20010101000000";
        expired.serial = 12;
        p.expired = gen(*p.rng, expired, &p.ca);
        tls::CertRequest untrusted = srv;
        untrusted.serial = 13;
        p.untrusted = gen(*p.rng, untrusted, &p.other_ca);
        tls::CertRequest p384 = srv;
        p384.curve = tls::CertRequest::Curve::P384;
        p384.serial = 14;
        p.p384 = gen(*p.rng, p384, &p.ca);
        return p;
    }
};

// Drives both sessions as an owner would on every event (advance, and read with the plaintext
// dropped) until neither changes anything for two rounds or `rounds` pass.
inline void pump(tls::TlsSession& a, tls::TlsSession& b, Pipe& pipe, int rounds = 100000) {
    using Snapshot = std::tuple<std::size_t, std::size_t, std::size_t, std::size_t,
                                tls::TlsSession::Phase, tls::TlsSession::Phase>;
    Snapshot last{};
    int still = 0;
    for (int i = 0; i < rounds; ++i) {
        for (tls::TlsSession* s : {&a, &b}) {
            s->advance();
            std::uint8_t sink[512];
            for (int k = 0; k < 64; ++k) {
                auto n = s->read(stack::MutBytes(sink, sizeof sink));
                if (!n.ok() || *n == 0) break;
            }
        }
        const Snapshot now{pipe.to_server.total,
                           pipe.to_client.total,
                           pipe.to_server.bytes.size(),
                           pipe.to_client.bytes.size(),
                           a.phase(),
                           b.phase()};
        if (i > 0 && now == last) {
            if (++still >= 2) return;
        } else {
            still = 0;
        }
        last = now;
    }
}

}  // namespace tunstack_test
