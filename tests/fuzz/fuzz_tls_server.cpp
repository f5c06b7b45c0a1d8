// libFuzzer target for the TLS server side: the input is what a client sends to tunstackd's TLS
// port, delivered to a TlsSession (tls/session.hpp) in pieces whose sizes come from the input
// itself, then end of stream. The session is driven as tunstackd drives it (advance, read, and on
// failure the pending alert flushed) until nothing changes. Checks, besides the sanitizers:
//  - every byte the server writes forms whole TLS records with a content type of 20..23, protocol
//    version 3.1..3.3 (a 0.0 version was a real bug) and a length within RFC 5246 §6.2's limits;
//    the one exception is mbedTLS's own protocol_version alert, whose record echoes whatever
//    version the ClientHello claimed;
//  - a failed session has an Error whose message is non-empty;
//  - nothing is read as application data without a completed handshake.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "tests/fuzz/fuzz_check.hpp"
#include "tls/certgen.hpp"
#include "tls/config.hpp"
#include "tls/session.hpp"

namespace {

std::shared_ptr<tls::ServerConfig> make_config() {
    auto rng = tls::Rng::create();
    FUZZ_CHECK(rng.ok());
    tls::CertRequest req;
    req.common_name = "fuzz.test";
    req.dns_names = {"fuzz.test"};
    auto cert = tls::generate_cert(req, **rng);
    FUZZ_CHECK(cert.ok());
    auto ck = tls::CertKey::from_pem(cert->cert_pem, cert->key_pem, **rng, "fuzz");
    FUZZ_CHECK(ck.ok());
    std::vector<std::unique_ptr<tls::CertKey>> certs;
    certs.push_back(std::move(*ck));
    auto tickets = tls::TicketKeys::create(*rng, tls::kDefaultTicketLifetimeS);
    FUZZ_CHECK(tickets.ok());
    auto config = tls::ServerConfig::create(*rng, std::move(certs), *tickets, {});
    FUZZ_CHECK(config.ok());
    return *config;
}

// The client's bytes, handed out in the given piece sizes; what the server sends is collected.
class Stream final : public tls::ByteStream {
public:
    Stream(const std::uint8_t* data, std::size_t size, std::vector<std::size_t> pieces)
        : data_(data), size_(size), pieces_(std::move(pieces)) {}
    stack::Result<std::size_t, tls::StreamError> send(stack::Bytes d) override {
        if (shut_) return stack::Err(tls::StreamError::Closed);
        out.insert(out.end(), d.begin(), d.end());
        return d.size();
    }
    stack::Result<std::size_t, tls::StreamError> recv(stack::MutBytes o) override {
        if (pos_ == size_) return stack::Err(tls::StreamError::Eof);
        if (budget_ == 0) {
            // The next piece arrives only on the next "event" (release()).
            return stack::Err(tls::StreamError::WouldBlock);
        }
        const std::size_t n = std::min({o.size(), size_ - pos_, budget_});
        std::copy_n(data_ + pos_, n, o.begin());
        pos_ += n;
        budget_ -= n;
        return n;
    }
    void shutdown_send() override { shut_ = true; }
    // One "readable event": the next piece becomes available. False when everything was handed out.
    bool release() {
        if (pos_ == size_) return false;
        budget_ = next_ < pieces_.size() ? pieces_[next_++] : size_ - pos_;
        return true;
    }
    std::vector<std::uint8_t> out;

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::vector<std::size_t> pieces_;
    std::size_t next_ = 0, pos_ = 0, budget_ = 0;
    bool shut_ = false;
};

void check_records(const std::vector<std::uint8_t>& out, bool bad_version) {
    std::size_t i = 0;
    while (i < out.size()) {
        FUZZ_CHECK(out.size() - i >= 5);  // whole records only
        const std::uint8_t type = out[i];
        const std::uint16_t len = static_cast<std::uint16_t>(out[i + 3] << 8 | out[i + 4]);
        FUZZ_CHECK(type >= 20 && type <= 23);
        if (!(bad_version && type == 21)) {
            FUZZ_CHECK(out[i + 1] == 3 && out[i + 2] >= 1 && out[i + 2] <= 3);
        }
        FUZZ_CHECK(len <= 16384 + 2048);
        FUZZ_CHECK(out.size() - i - 5 >= len);
        i += 5 + len;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::shared_ptr<tls::ServerConfig> config = make_config();
    // The first byte chooses how the rest is cut: 0 = whole, else pieces of (byte % 64) + 1.
    std::vector<std::size_t> pieces;
    if (size > 0 && data[0] != 0) {
        for (std::size_t i = 1; i < size; i += (data[0] % 64) + 1)
            pieces.push_back((data[0] % 64) + 1);
    }
    const std::uint8_t* body = size > 0 ? data + 1 : data;
    const std::size_t body_size = size > 0 ? size - 1 : 0;
    Stream stream(body, body_size, std::move(pieces));
    auto session = tls::TlsSession::server(config, stream, nullptr);
    FUZZ_CHECK(session.ok());
    tls::TlsSession& s = **session;
    std::uint8_t buf[4096];
    for (int round = 0; round < 100000; ++round) {
        const bool more = stream.release();
        s.advance();
        for (int k = 0; k < 64; ++k) {
            auto n = s.read(stack::MutBytes(buf, sizeof buf));
            if (!n.ok() || *n == 0) break;
            FUZZ_CHECK(s.handshake_done());
        }
        if (s.phase() == tls::TlsSession::Phase::Failed) {
            FUZZ_CHECK(s.error().has_value() && !s.error()->message().empty());
            s.advance();  // what the daemon does before hanging up: flush the alert
            break;
        }
        if (!more) break;
    }
    check_records(stream.out,
                  s.error().has_value() && s.error()->reason == tls::Reason::BadVersion);
    return 0;
}
