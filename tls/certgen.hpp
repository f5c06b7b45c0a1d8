// Certificate generation with mbedTLS x509write: an ECDSA key (P-256 unless asked otherwise) and an
// X.509 v3 certificate for it, self-signed or signed by a given issuer. tunstackd uses it for its
// ephemeral certificate when no --cert is given; the unit tests use it for their CA, server and
// expired certificates (generated at test time with fixed validity dates, so nothing expires under
// them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "stack/base/result.hpp"
#include "tls/config.hpp"

namespace tls {

struct CertRequest {
    enum class Curve : std::uint8_t { P256, P384 };
    Curve curve = Curve::P256;  // the ECDSA key's curve
    std::string common_name;
    std::vector<std::string> dns_names;         // subjectAltName dNSName
    std::vector<std::uint32_t> ipv4s;           // subjectAltName iPAddress, host byte order
    bool is_ca = false;                         // basicConstraints CA:TRUE, keyUsage keyCertSign
    std::string not_before = "20000101000000";  // YYYYMMDDhhmmss, UTC
    std::string not_after = "20991231235959";
    std::uint64_t serial = 1;
};

struct GeneratedCert {
    std::string cert_pem;
    std::string key_pem;
};

// Signs with `issuer` (its certificate and key PEM) or, when null, with the new key itself.
stack::Result<GeneratedCert, std::string> generate_cert(const CertRequest& req, Rng& rng,
                                                        const GeneratedCert* issuer = nullptr);

// "YYYYMMDDhhmmss" for the UTC time `unix_seconds`.
std::string x509_time(std::int64_t unix_seconds);

}  // namespace tls
