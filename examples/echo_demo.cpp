// echo_demo: an EchoServer on one tunstack Stack and an EchoClient on another, joined by an
// in-memory link, driven by this program's own event loop in simulated time. It uses only the
// installed libtunstack (pkg-config tunstack) and its headers.
//
//   echo_demo [BYTES [LOSS_PERCENT]]  exit 0 when BYTES (default 1048576) came back byte-exact;
//                                     LOSS_PERCENT > 0 loses that share of the packets on the link
//                                     (seeded, so every run is the same), so the stacks' loss
//                                     recovery and retransmission timers (poll_at) have work to do
//
// The loop is the sans-IO contract in its simplest form: feed each packet to the stack it is for with
// ingress(now, packet), call poll(now, sink) so the stack runs its timers and hands over what it
// wants sent, drain the events with tcp().next_event(), and when nothing is in flight advance the
// clock to the earliest poll_at(). A real program does the same with a TUN device or a socket as the
// sink and CLOCK_MONOTONIC as `now`, sleeping in epoll_wait until poll_at().
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <vector>

#include "echo_client.hpp"
#include "echo_server.hpp"
#include "stack/stack.hpp"

namespace {

// One direction of the link: packets a stack transmits wait here until the loop delivers them.
class Queue final : public stack::PacketSink {
public:
    bool transmit(stack::Bytes packet) override {
        packets.emplace_back(packet.begin(), packet.end());
        return true;
    }
    std::deque<std::vector<std::uint8_t>> packets;
};

}  // namespace

int main(int argc, char** argv) {
    std::size_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1u << 20;
    unsigned long loss_percent = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 0;
    unsigned long dropped = 0;
    std::uint64_t rng = 0x9e3779b97f4a7c15u;
    auto lost = [&] {
        rng = rng * 6364136223846793005u + 1442695040888963407u;  // a 64-bit LCG
        bool drop = (rng >> 33) % 100 < loss_percent;
        dropped += drop;
        return drop;
    };
    const stack::wire::Ipv4Address server_addr(198, 18, 0, 2), client_addr(198, 18, 0, 1);

    stack::StackConfig server_config;
    server_config.addr = server_addr;
    server_config.seed = 1;  // a real program seeds from getrandom() and sets tcp_secret
    stack::StackConfig client_config;
    client_config.addr = client_addr;
    client_config.seed = 2;
    stack::Stack server_stack(server_config), client_stack(client_config);
    Queue to_server, to_client;

    stack::Instant now;  // simulated time, starting at 0
    example::EchoServer server(server_stack, 7);
    if (!server.ok()) {
        std::fprintf(stderr, "echo_demo: listen failed\n");
        return 1;
    }
    example::EchoClient client(client_stack, now, server_addr, 7, total);

    // Bounded: a stuck exchange ends the program instead of looping forever.
    for (int round = 0; round < 10'000'000 && !client.done(); ++round) {
        client_stack.poll(now, to_server);
        server_stack.poll(now, to_client);
        bool moved = !to_server.packets.empty() || !to_client.packets.empty();
        while (!to_server.packets.empty()) {
            if (!lost()) server_stack.ingress(now, to_server.packets.front());
            to_server.packets.pop_front();
        }
        while (!to_client.packets.empty()) {
            if (!lost()) client_stack.ingress(now, to_client.packets.front());
            to_client.packets.pop_front();
        }
        stack::SocketEvent ev;
        while (server_stack.tcp().next_event(ev)) server.on_event(now, ev);
        while (client_stack.tcp().next_event(ev)) client.on_event(now, ev);
        if (!moved && !client_stack.has_pending_output() && !server_stack.has_pending_output()) {
            // Nothing in flight: sleep until the earliest timer (delayed ACK, RTO, ...).
            stack::Instant next = std::min(client_stack.poll_at(), server_stack.poll_at());
            if (next == stack::Instant::never()) break;
            now = std::max(now, next);
        }
    }
    if (!client.done() || client.failed()) {
        std::fprintf(stderr, "echo_demo: %s\n",
                     client.failed() ? client.error().c_str() : "the echo did not finish");
        return 1;
    }
    std::printf(
        "echo_demo: %zu bytes echoed byte-exact over %zu connection(s), %lu packets lost, "
        "in %lld ms of simulated time\n",
        client.received(), server.connections_served(), dropped,
        static_cast<long long>(now.as_millis()));
    return 0;
}
