#include "stack/stats.hpp"

namespace stack {

#define TUNSTACK_STATS_VISIT(field, name) fn(name, field);
#define TUNSTACK_STATS_GET(field, text) \
    if (name == (text)) return static_cast<std::int64_t>(field);
// clang-format off
#define TUNSTACK_STATS_DEFINE(Type, LIST)                   \
    void Type::visit(StatsVisitor fn) const {               \
        LIST(TUNSTACK_STATS_VISIT)                          \
    }                                                       \
    std::int64_t Type::get(std::string_view name) const {   \
        LIST(TUNSTACK_STATS_GET)                            \
        return -1;                                          \
    }
// clang-format on

TUNSTACK_STATS_DEFINE(IpStats, TUNSTACK_IP_STATS)
TUNSTACK_STATS_DEFINE(IcmpStats, TUNSTACK_ICMP_STATS)
TUNSTACK_STATS_DEFINE(UdpStats, TUNSTACK_UDP_STATS)
TUNSTACK_STATS_DEFINE(TcpStats, TUNSTACK_TCP_STATS)

#undef TUNSTACK_STATS_DEFINE
#undef TUNSTACK_STATS_GET
#undef TUNSTACK_STATS_VISIT

void Stats::visit(StatsVisitor fn) const {
    ip.visit(fn);
    icmp.visit(fn);
    udp.visit(fn);
    tcp.visit(fn);
}

std::int64_t Stats::get(std::string_view name) const {
    for (std::int64_t v : {ip.get(name), icmp.get(name), udp.get(name), tcp.get(name)}) {
        if (v >= 0) return v;
    }
    return -1;
}

}  // namespace stack
