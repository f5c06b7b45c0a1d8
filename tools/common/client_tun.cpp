#include "tools/common/client_tun.hpp"

#include <net/if.h>

namespace tools {

void add_client_tun_flags(CLI::App& app, ClientTunFlags& f) {
    app.add_option("--tun", f.tun, "TUN device to create (must not exist)")->required();
    app.add_option("--host-addr", f.host_addr, "kernel-side address of the TUN, e.g. 198.18.0.1/24")
        ->required();
    app.add_option("--addr", f.addr, "this client's address in that subnet, e.g. 198.18.0.2")
        ->required();
    app.add_option("--mtu", f.mtu, "device and stack MTU (576..65535)")->capture_default_str();
    app.add_option("--pcap", f.pcap, "record every packet in and out to FILE");
}

stack::Result<RuntimeOptions, std::string> client_runtime_options(const ClientTunFlags& f) {
    auto cidr = stack::wire::Ipv4Cidr::parse(f.host_addr);
    if (!cidr || cidr->prefix_len < 1 || cidr->prefix_len > 30) {
        return stack::Err(
            "--host-addr: expected an IPv4 address with a prefix length 1..30, e.g. "
            "198.18.0.1/24, got '" +
            f.host_addr + "'");
    }
    auto addr = stack::wire::Ipv4Address::parse(f.addr);
    if (!addr) return stack::Err("--addr: expected an IPv4 address, got '" + f.addr + "'");
    if (!cidr->contains(*addr) || *addr == cidr->address) {
        return stack::Err("--addr " + f.addr + " must be another address in " + f.host_addr);
    }
    if (f.tun.empty() || f.tun.size() >= IFNAMSIZ || f.tun.find('/') != std::string::npos) {
        return stack::Err("--tun: invalid interface name '" + f.tun + "'");
    }
    if (f.mtu < 576 || f.mtu > 65535) {
        return stack::Err("--mtu: " + std::to_string(f.mtu) + " is out of range 576..65535");
    }
    RuntimeOptions ro;
    ro.tun = f.tun;
    ro.host_addr = *cidr;
    ro.addr = *addr;
    ro.mtu = f.mtu;
    ro.pcap = f.pcap;
    return ro;
}

std::string unreachable_server(const RuntimeOptions& ro, stack::wire::Ipv4Address server) {
    if (server == ro.addr) {
        return "cannot connect to " + server.to_string() +
               ": it is this client's own address (--addr); the server must be the kernel side or "
               "beyond it";
    }
    if (server.is_loopback() || server.is_unspecified() || server.is_multicast() ||
        server.is_broadcast()) {
        return "cannot connect to " + server.to_string() +
               ": a loopback, unspecified, multicast or broadcast address is not reachable through "
               "the TUN device";
    }
    return {};
}

}  // namespace tools
