#include "tls/stats.hpp"

#include <string>

namespace tls {

void TlsStats::visit(stack::StatsVisitor fn) const {
#define TUNSTACK_TLS_STATS_VISIT(field, name) fn(name, field);
    TUNSTACK_TLS_STATS(TUNSTACK_TLS_STATS_VISIT)
#undef TUNSTACK_TLS_STATS_VISIT
    std::string name;
    auto by_reason = [&](std::string_view family,
                         const std::array<std::uint64_t, kReasonCount>& v) {
        for (std::size_t i = 0; i < kReasonCount; ++i) {
            name = family;
            name += to_string(static_cast<Reason>(i));
            fn(name, v[i]);
        }
    };
    by_reason("tls.handshake_failed.", handshake_failed);
    by_reason("tls.failed.", failed);
}

std::int64_t TlsStats::get(std::string_view name) const {
    std::int64_t found = -1;
    visit([&](std::string_view n, std::uint64_t v) {
        if (found < 0 && n == name) found = static_cast<std::int64_t>(v);
    });
    return found;
}

}  // namespace tls
