// TLS configuration: RAII owners of everything an mbedTLS session points into, built once and
// shared (std::shared_ptr<const ...>) by every session that uses them. A session keeps its config
// alive, so a reload (tunstackd's SIGHUP) builds a new ServerConfig for new connections while
// existing ones finish on the old.
//
//   Rng           mbedTLS entropy (an explicit getrandom(2) source; mbedTLS's own platform source,
//                 which also uses getrandom on Linux, stays registered) feeding a CTR_DRBG
//   CertKey       one certificate chain (PEM) and its private key, checked to match; its DNS/IP
//                 names (SAN, else CN) for SNI
//   TicketKeys    RFC 5077 session-ticket keys (AES-256-GCM; mbedTLS rotates the key every
//                 `lifetime` seconds and accepts tickets sealed with the previous one)
//   ServerConfig  secure defaults + certificates (SNI) + ALPN + tickets
//   ClientConfig  secure defaults + trust anchors (CA file, or none with verify=false) + ALPN
//
// Secure defaults (both roles): TLS 1.2 only; ECDHE key exchange with AEAD ciphersuites only
// (ChaCha20-Poly1305, AES-128-GCM, AES-256-GCM, with ECDSA or RSA certificates); key-exchange
// groups X25519 and P-256; signature hashes SHA-256/384/512; renegotiation disabled; no compression
// (not compiled into Debian's mbedTLS, and never configured). Nothing here reads a clock except
// mbedTLS itself (certificate validity, ticket lifetime).
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stack/base/result.hpp"

namespace tls {

class Rng {
public:
    // Seeds a CTR_DRBG from getrandom. Error: one line.
    static stack::Result<std::shared_ptr<Rng>, std::string> create();
    ~Rng();
    Rng(const Rng&) = delete;
    Rng& operator=(const Rng&) = delete;

    // mbedTLS's f_rng signature; `self` is the Rng.
    static int random(void* self, unsigned char* out, std::size_t len);
    mbedtls_ctr_drbg_context* drbg() { return &drbg_; }

private:
    Rng();
    mbedtls_entropy_context entropy_;
    mbedtls_ctr_drbg_context drbg_;
};

class CertKey {
public:
    // Reads and parses both PEM files; checks the key belongs to the leaf certificate. Errors name
    // the file and the problem in one line ("--cert x.pem: cannot read: No such file or
    // directory").
    static stack::Result<std::unique_ptr<CertKey>, std::string> from_files(
        const std::string& cert_file, const std::string& key_file, Rng& rng);
    // The same from PEM text (tests, generated certificates). `label` prefixes errors.
    static stack::Result<std::unique_ptr<CertKey>, std::string> from_pem(std::string_view cert_pem,
                                                                         std::string_view key_pem,
                                                                         Rng& rng,
                                                                         const std::string& label);
    ~CertKey();
    CertKey(const CertKey&) = delete;
    CertKey& operator=(const CertKey&) = delete;

    mbedtls_x509_crt* chain() { return &chain_; }
    mbedtls_pk_context* key() { return &key_; }
    const mbedtls_x509_crt* leaf() const { return &chain_; }
    // DNS names of the leaf (subjectAltName dNSName entries, or the CN when there are none), lower
    // case; used to pick the certificate for an SNI name ("*.example" wildcards match one label).
    const std::vector<std::string>& names() const { return names_; }
    bool matches(std::string_view host) const;
    // "AB:CD:..." SHA-256 over the leaf's DER (what `openssl x509 -fingerprint -sha256` prints).
    const std::string& fingerprint() const { return fingerprint_; }
    std::string subject() const;
    std::string source() const { return source_; }

private:
    CertKey();
    stack::Result<void, std::string> finish(Rng& rng, const std::string& label);
    mbedtls_x509_crt chain_;
    mbedtls_pk_context key_;
    std::vector<std::string> names_;
    std::string fingerprint_;
    std::string source_;
};

class TicketKeys {
public:
    // `lifetime_s`: how long a ticket is valid, which is also the key-rotation period.
    static stack::Result<std::shared_ptr<TicketKeys>, std::string> create(std::shared_ptr<Rng> rng,
                                                                          std::uint32_t lifetime_s);
    ~TicketKeys();
    TicketKeys(const TicketKeys&) = delete;
    TicketKeys& operator=(const TicketKeys&) = delete;
    mbedtls_ssl_ticket_context* get() { return &ctx_; }

private:
    TicketKeys();
    std::shared_ptr<Rng> rng_;
    mbedtls_ssl_ticket_context ctx_;
};

inline constexpr std::uint32_t kDefaultTicketLifetimeS = 3600;

struct ServerOptions {
    std::vector<std::string> alpn{"http/1.1"};  // offered in preference order; empty: no ALPN
};

class ServerConfig {
public:
    // `certs`: at least one. Without SNI (or for an unknown name) mbedTLS picks among all of them
    // the first (in this order) that suits the negotiated suite; with a known SNI name, among those
    // whose names match. `tickets` may be null (no resumption).
    static stack::Result<std::shared_ptr<ServerConfig>, std::string> create(
        std::shared_ptr<Rng> rng, std::vector<std::unique_ptr<CertKey>> certs,
        std::shared_ptr<TicketKeys> tickets, const ServerOptions& options);
    ~ServerConfig();
    ServerConfig(const ServerConfig&) = delete;
    ServerConfig& operator=(const ServerConfig&) = delete;

    const mbedtls_ssl_config* get() const { return &conf_; }
    const std::vector<std::unique_ptr<CertKey>>& certs() const { return certs_; }

private:
    ServerConfig();
    static int on_sni(void* self, mbedtls_ssl_context* ssl, const unsigned char* name,
                      std::size_t len);
    mbedtls_ssl_config conf_;
    std::shared_ptr<Rng> rng_;
    std::vector<std::unique_ptr<CertKey>> certs_;
    std::shared_ptr<TicketKeys> tickets_;
    std::vector<std::string> alpn_;
    std::vector<const char*> alpn_ptrs_;
};

// The system's CA bundle (Debian: ca-certificates).
inline constexpr const char* kSystemCaFile = "/etc/ssl/certs/ca-certificates.crt";

struct ClientOptions {
    bool verify = true;   // false: --insecure (no certificate or name checks at all)
    std::string ca_file;  // PEM bundle; empty: ca_pem, or else kSystemCaFile
    std::string ca_pem;   // trust anchors as PEM text (tests)
    std::vector<std::string> alpn;
};

class ClientConfig {
public:
    static stack::Result<std::shared_ptr<ClientConfig>, std::string> create(
        std::shared_ptr<Rng> rng, const ClientOptions& options);
    ~ClientConfig();
    ClientConfig(const ClientConfig&) = delete;
    ClientConfig& operator=(const ClientConfig&) = delete;

    const mbedtls_ssl_config* get() const { return &conf_; }
    bool verify() const { return verify_; }

private:
    ClientConfig();
    mbedtls_ssl_config conf_;
    mbedtls_x509_crt ca_;
    std::shared_ptr<Rng> rng_;
    bool verify_ = true;
    std::vector<std::string> alpn_;
    std::vector<const char*> alpn_ptrs_;
};

// Reads a whole file; error "cannot read: <strerror>".
stack::Result<std::string, std::string> read_file(const std::string& path);
// "AB:CD:..." of SHA-256 over `der`.
std::string sha256_fingerprint(const unsigned char* der, std::size_t len);

}  // namespace tls
