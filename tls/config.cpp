#include "tls/config.hpp"

#include <fcntl.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tls/error.hpp"
#include "tls/mbedtls_compat.hpp"

namespace tls {

namespace {

// AEAD with ECDHE only, ChaCha20-Poly1305 first (faster than AES-GCM in mbedTLS on these CPUs,
// NOTES.md), ECDSA before RSA. The server picks by this order among what the client offers.
constexpr std::array<int, 7> kCiphersuites = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    0,
};

constexpr std::array<mbedtls_ecp_group_id, 3> kGroups = {
    MBEDTLS_ECP_DP_CURVE25519,
    MBEDTLS_ECP_DP_SECP256R1,
    MBEDTLS_ECP_DP_NONE,
};

constexpr std::array<int, 4> kSigHashes = {
    MBEDTLS_MD_SHA256,
    MBEDTLS_MD_SHA384,
    MBEDTLS_MD_SHA512,
    MBEDTLS_MD_NONE,
};

constexpr std::size_t kMaxPemFile = 4u << 20;  // a CA bundle is ~200 KB; refuse anything absurd

int getrandom_source(void* /*unused*/, unsigned char* out, std::size_t len, std::size_t* olen) {
    std::size_t done = 0;
    while (done < len) {
        const ssize_t n = getrandom(out + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
        }
        done += static_cast<std::size_t>(n);
    }
    *olen = len;
    return 0;
}

std::string with_code(const std::string& what, int code) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "-0x%04x", static_cast<unsigned>(-code));
    return what + " (mbedTLS " + hex + ": " + mbedtls_message(code) + ")";
}

void apply_common(mbedtls_ssl_config* conf, Rng& rng) {
    compat::set_tls12_only(conf);
    mbedtls_ssl_conf_ciphersuites(conf, kCiphersuites.data());
    compat::set_groups(conf, kGroups.data());
    compat::set_sig_hashes(conf, kSigHashes.data());
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    mbedtls_ssl_conf_renegotiation(conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
    mbedtls_ssl_conf_rng(conf, Rng::random, &rng);
}

void set_alpn(mbedtls_ssl_config* conf, const std::vector<std::string>& in,
              std::vector<std::string>& store, std::vector<const char*>& ptrs) {
    store = in;
    ptrs.clear();
    if (store.empty()) return;
    for (const std::string& p : store) ptrs.push_back(p.c_str());
    ptrs.push_back(nullptr);
    mbedtls_ssl_conf_alpn_protocols(conf, ptrs.data());
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

}  // namespace

stack::Result<std::string, std::string> read_file(const std::string& path) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return stack::Err(std::string("cannot read: ") + std::strerror(errno));
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        const int e = errno;
        close(fd);
        return stack::Err(std::string("cannot read: ") + std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return stack::Err(std::string(S_ISDIR(st.st_mode) ? "cannot read: is a directory"
                                                          : "cannot read: not a regular file"));
    }
    std::string out;
    char buf[8192];
    while (true) {
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            close(fd);
            return stack::Err(std::string("cannot read: ") + std::strerror(e));
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > kMaxPemFile) {
            close(fd);
            return stack::Err(std::string("file larger than 4 MiB"));
        }
    }
    close(fd);
    return out;
}

std::string sha256_fingerprint(const unsigned char* der, std::size_t len) {
    unsigned char digest[32];
    if (compat::sha256(der, len, digest) != 0) return "?";
    std::string out;
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (std::size_t i = 0; i < sizeof digest; ++i) {
        if (i > 0) out += ':';
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 15];
    }
    return out;
}

// ---- Rng
// -------------------------------------------------------------------------------------------

Rng::Rng() {
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_init(&drbg_);
}

Rng::~Rng() {
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
}

stack::Result<std::shared_ptr<Rng>, std::string> Rng::create() {
    std::shared_ptr<Rng> rng(new Rng());
    int ret = mbedtls_entropy_add_source(&rng->entropy_, getrandom_source, nullptr, 32,
                                         MBEDTLS_ENTROPY_SOURCE_STRONG);
    if (ret != 0) return stack::Err(with_code("adding the getrandom entropy source", ret));
    static constexpr unsigned char kPersonalization[] = "tunstack tls drbg";
    ret = mbedtls_ctr_drbg_seed(&rng->drbg_, mbedtls_entropy_func, &rng->entropy_, kPersonalization,
                                sizeof kPersonalization - 1);
    if (ret != 0) return stack::Err(with_code("seeding the CTR_DRBG", ret));
    return rng;
}

int Rng::random(void* self, unsigned char* out, std::size_t len) {
    return mbedtls_ctr_drbg_random(static_cast<Rng*>(self)->drbg(), out, len);
}

// ---- CertKey
// ---------------------------------------------------------------------------------------

CertKey::CertKey() {
    mbedtls_x509_crt_init(&chain_);
    mbedtls_pk_init(&key_);
}

CertKey::~CertKey() {
    mbedtls_pk_free(&key_);
    mbedtls_x509_crt_free(&chain_);
}

stack::Result<std::unique_ptr<CertKey>, std::string> CertKey::from_files(
    const std::string& cert_file, const std::string& key_file, Rng& rng) {
    auto cert = read_file(cert_file);
    if (!cert) return stack::Err("--cert " + cert_file + ": " + cert.error());
    auto key = read_file(key_file);
    if (!key) return stack::Err("--key " + key_file + ": " + key.error());
    std::unique_ptr<CertKey> ck(new CertKey());
    ck->source_ = cert_file;
    const std::string cert_label = "--cert " + cert_file;
    const std::string key_label = "--key " + key_file;
    int ret = mbedtls_x509_crt_parse(
        &ck->chain_, reinterpret_cast<const unsigned char*>(cert->c_str()), cert->size() + 1);
    if (ret != 0) {
        return stack::Err(ret > 0 ? cert_label + ": " + std::to_string(ret) +
                                        " certificate(s) in the file could not be parsed"
                                  : with_code(cert_label + ": not a valid PEM certificate", ret));
    }
    ret = compat::parse_key(&ck->key_, reinterpret_cast<const unsigned char*>(key->c_str()),
                            key->size() + 1, Rng::random, &rng);
    if (ret != 0) {
        return stack::Err(with_code(key_label + ": not a valid unencrypted PEM private key", ret));
    }
    if (auto r = ck->finish(rng, key_label + " does not match the certificate in " + cert_label);
        !r) {
        return stack::Err(r.error());
    }
    return ck;
}

stack::Result<std::unique_ptr<CertKey>, std::string> CertKey::from_pem(std::string_view cert_pem,
                                                                       std::string_view key_pem,
                                                                       Rng& rng,
                                                                       const std::string& label) {
    std::unique_ptr<CertKey> ck(new CertKey());
    ck->source_ = label;
    const std::string cert(cert_pem), key(key_pem);  // NUL-terminated copies, as mbedTLS wants
    int ret = mbedtls_x509_crt_parse(
        &ck->chain_, reinterpret_cast<const unsigned char*>(cert.c_str()), cert.size() + 1);
    if (ret != 0) return stack::Err(with_code(label + ": not a valid PEM certificate", ret));
    ret = compat::parse_key(&ck->key_, reinterpret_cast<const unsigned char*>(key.c_str()),
                            key.size() + 1, Rng::random, &rng);
    if (ret != 0) return stack::Err(with_code(label + ": not a valid PEM private key", ret));
    if (auto r = ck->finish(rng, label + ": the key does not match the certificate"); !r) {
        return stack::Err(r.error());
    }
    return ck;
}

stack::Result<void, std::string> CertKey::finish(Rng& rng, const std::string& mismatch) {
    if (!mbedtls_pk_can_do(&key_, MBEDTLS_PK_ECKEY) && !mbedtls_pk_can_do(&key_, MBEDTLS_PK_RSA)) {
        return stack::Err(source_ + ": unsupported key type (ECDSA or RSA keys only)");
    }
    if (const int ret = compat::check_pair(&chain_.pk, &key_, Rng::random, &rng); ret != 0) {
        return stack::Err(with_code(mismatch, ret));
    }
    compat::for_each_san(&chain_, [&](int tag, const unsigned char* p, std::size_t len) {
        if (tag == 2) names_.push_back(lower(std::string(reinterpret_cast<const char*>(p), len)));
    });
    if (names_.empty()) {
        for (const mbedtls_x509_name* n = &chain_.subject; n != nullptr; n = n->next) {
            if (n->oid.p != nullptr && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
                names_.push_back(
                    lower(std::string(reinterpret_cast<const char*>(n->val.p), n->val.len)));
            }
        }
    }
    fingerprint_ = sha256_fingerprint(chain_.raw.p, chain_.raw.len);
    return stack::Ok{};
}

bool CertKey::matches(std::string_view host) const {
    const std::string h = lower(std::string(host));
    for (const std::string& n : names_) {
        if (n == h) return true;
        // RFC 6125 §6.4.3: a wildcard only as the whole left-most label, matching exactly one
        // label.
        if (n.size() > 2 && n[0] == '*' && n[1] == '.') {
            const std::size_t dot = h.find('.');
            if (dot != std::string::npos && dot > 0 && h.substr(dot) == n.substr(1)) return true;
        }
    }
    return false;
}

std::string CertKey::subject() const {
    char buf[512];
    const int n = mbedtls_x509_dn_gets(buf, sizeof buf, &chain_.subject);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("?");
}

// ---- TicketKeys
// ------------------------------------------------------------------------------------

TicketKeys::TicketKeys() { mbedtls_ssl_ticket_init(&ctx_); }
TicketKeys::~TicketKeys() { mbedtls_ssl_ticket_free(&ctx_); }

stack::Result<std::shared_ptr<TicketKeys>, std::string> TicketKeys::create(
    std::shared_ptr<Rng> rng, std::uint32_t lifetime_s) {
    std::shared_ptr<TicketKeys> keys(new TicketKeys());
    keys->rng_ = std::move(rng);
    const int ret = mbedtls_ssl_ticket_setup(&keys->ctx_, Rng::random, keys->rng_.get(),
                                             MBEDTLS_CIPHER_AES_256_GCM, lifetime_s);
    if (ret != 0) return stack::Err(with_code("setting up session-ticket keys", ret));
    return keys;
}

// ---- ServerConfig
// ----------------------------------------------------------------------------------

ServerConfig::ServerConfig() { mbedtls_ssl_config_init(&conf_); }
ServerConfig::~ServerConfig() { mbedtls_ssl_config_free(&conf_); }

stack::Result<std::shared_ptr<ServerConfig>, std::string> ServerConfig::create(
    std::shared_ptr<Rng> rng, std::vector<std::unique_ptr<CertKey>> certs,
    std::shared_ptr<TicketKeys> tickets, const ServerOptions& options) {
    if (certs.empty()) return stack::Err(std::string("no certificate configured"));
    std::shared_ptr<ServerConfig> c(new ServerConfig());
    c->rng_ = std::move(rng);
    c->certs_ = std::move(certs);
    c->tickets_ = std::move(tickets);
    int ret = mbedtls_ssl_config_defaults(&c->conf_, MBEDTLS_SSL_IS_SERVER,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) return stack::Err(with_code("TLS server defaults", ret));
    apply_common(&c->conf_, *c->rng_);
    for (auto& ck : c->certs_) {
        ret = mbedtls_ssl_conf_own_cert(&c->conf_, ck->chain(), ck->key());
        if (ret != 0) return stack::Err(with_code(ck->source() + ": cannot use certificate", ret));
    }
    mbedtls_ssl_conf_sni(&c->conf_, &ServerConfig::on_sni, c.get());
    set_alpn(&c->conf_, options.alpn, c->alpn_, c->alpn_ptrs_);
    if (c->tickets_) {
        mbedtls_ssl_conf_session_tickets_cb(&c->conf_, mbedtls_ssl_ticket_write,
                                            mbedtls_ssl_ticket_parse, c->tickets_->get());
    }
    return c;
}

int ServerConfig::on_sni(void* self, mbedtls_ssl_context* ssl, const unsigned char* name,
                         std::size_t len) {
    auto* c = static_cast<ServerConfig*>(self);
    const std::string_view host(reinterpret_cast<const char*>(name), len);
    for (auto& ck : c->certs_) {
        if (!ck->matches(host)) continue;
        if (mbedtls_ssl_set_hs_own_cert(ssl, ck->chain(), ck->key()) != 0) return -1;
    }
    // No match: keep the configured list (the first certificate that suits the suite), as most
    // servers do, rather than failing with unrecognized_name.
    return 0;
}

// ---- ClientConfig
// ----------------------------------------------------------------------------------

ClientConfig::ClientConfig() {
    mbedtls_ssl_config_init(&conf_);
    mbedtls_x509_crt_init(&ca_);
}

ClientConfig::~ClientConfig() {
    mbedtls_x509_crt_free(&ca_);
    mbedtls_ssl_config_free(&conf_);
}

stack::Result<std::shared_ptr<ClientConfig>, std::string> ClientConfig::create(
    std::shared_ptr<Rng> rng, const ClientOptions& options) {
    std::shared_ptr<ClientConfig> c(new ClientConfig());
    c->rng_ = std::move(rng);
    c->verify_ = options.verify;
    int ret = mbedtls_ssl_config_defaults(&c->conf_, MBEDTLS_SSL_IS_CLIENT,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) return stack::Err(with_code("TLS client defaults", ret));
    apply_common(&c->conf_, *c->rng_);
    if (options.verify) {
        std::string pem = options.ca_pem;
        std::string label = "the CA certificates given";
        if (pem.empty()) {
            const std::string file = options.ca_file.empty() ? kSystemCaFile : options.ca_file;
            label = "CA file " + file;
            auto text = read_file(file);
            if (!text) return stack::Err(label + ": " + text.error());
            pem = std::move(*text);
        }
        ret = mbedtls_x509_crt_parse(&c->ca_, reinterpret_cast<const unsigned char*>(pem.c_str()),
                                     pem.size() + 1);
        // A bundle may hold certificates mbedTLS cannot parse (ret > 0 counts them); what matters
        // is that some parsed.
        if (ret < 0 || c->ca_.raw.p == nullptr) {
            return stack::Err(ret < 0 ? with_code(label + ": no usable PEM certificate", ret)
                                      : label + ": no usable PEM certificate");
        }
        mbedtls_ssl_conf_ca_chain(&c->conf_, &c->ca_, nullptr);
        mbedtls_ssl_conf_authmode(&c->conf_, MBEDTLS_SSL_VERIFY_REQUIRED);
    } else {
        mbedtls_ssl_conf_authmode(&c->conf_, MBEDTLS_SSL_VERIFY_NONE);
    }
    set_alpn(&c->conf_, options.alpn, c->alpn_, c->alpn_ptrs_);
    mbedtls_ssl_conf_session_tickets(&c->conf_, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
    return c;
}

}  // namespace tls
