#include "tools/tunstack/iperf3_client.hpp"

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "drivers/event_loop.hpp"

namespace tunstack {

namespace ip3 = tools::iperf3;
namespace json = tools::json;

namespace {
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitConnection = 3;
constexpr int kExitTimeout = 4;
constexpr int kExitProtocol = 5;
constexpr std::size_t kPatternSize = 128 * 1024;

double seconds(stack::Duration d) { return static_cast<double>(d.as_micros()) / 1e6; }

std::string format_bytes(double b) {
    char buf[32];
    if (b >= 1024.0 * 1024 * 1024) {
        std::snprintf(buf, sizeof buf, "%.2f GBytes", b / (1024.0 * 1024 * 1024));
    } else if (b >= 1024.0 * 1024) {
        std::snprintf(buf, sizeof buf, "%.1f MBytes", b / (1024.0 * 1024));
    } else {
        std::snprintf(buf, sizeof buf, "%.1f KBytes", b / 1024.0);
    }
    return buf;
}

std::string format_rate(double bps) {
    char buf[32];
    if (bps >= 1e9) {
        std::snprintf(buf, sizeof buf, "%.2f Gbit/s", bps / 1e9);
    } else {
        std::snprintf(buf, sizeof buf, "%.1f Mbit/s", bps / 1e6);
    }
    return buf;
}

}  // namespace

struct Iperf3Client::Impl {
    struct Stream {
        stack::SocketHandle h;
        bool connected = false;
        std::size_t cookie_sent = 0;
        std::int64_t bytes = 0;
        bool closed = false;
    };

    tools::Runtime& rt;
    Iperf3Options o;
    std::string cookie;
    std::string& report;
    int rc = kExitOk;
    bool finished = false;

    stack::SocketHandle control;
    bool control_connected = false;
    std::size_t cookie_sent = 0;
    std::string out;  // control bytes not yet taken by the socket
    ip3::ControlReader in;
    bool expect_results = false;  // after EXCHANGE_RESULTS: the server's results message
    bool expect_error_numbers = false;
    std::optional<ip3::Results> remote;

    std::vector<Stream> streams;
    std::size_t connecting = 0;  // streams are connected one after the other
    bool creating = false;
    bool running = false;  // between TEST_RUNNING and TEST_END
    bool ended = false;
    stack::Instant start, count_from, end;
    ip3::CpuTimes cpu0, cpu1;
    std::vector<std::uint8_t> pattern = std::vector<std::uint8_t>(kPatternSize, 0);
    std::array<std::uint8_t, 65536> buf{};

    Impl(tools::Runtime& r, const Iperf3Options& opts, std::string c, std::string& rep)
        : rt(r), o(opts), cookie(std::move(c)), report(rep) {
        for (std::size_t i = 0; i < pattern.size(); ++i) {
            pattern[i] = static_cast<std::uint8_t>('a' + i % 26);
        }
    }

    stack::tcp::TcpLayer& tcp() { return rt.stack().tcp(); }
    std::string endpoint() const { return o.server.to_string() + ":" + std::to_string(o.port); }

    void fail(int code, const std::string& msg) {
        if (finished) return;
        finished = true;
        rc = code;
        std::fprintf(stderr, "tunstack: error: iperf3: %s\n", msg.c_str());
        const stack::Instant now = drivers::EventLoop::now();
        if (control.valid()) (void)tcp().abort(now, control);
        for (Stream& s : streams) {
            if (s.h.valid() && !s.closed) (void)tcp().abort(now, s.h);
        }
        rt.stop();
    }

    int run() {
        const stack::Instant t0 = drivers::EventLoop::now();
        const double limit = o.duration_s + o.omit_s + 30.0;
        rt.loop().add_timer(t0 + stack::Duration::seconds(o.duration_s + o.omit_s + 30),
                            [this, limit](stack::Instant) {
                                char m[96];
                                std::snprintf(m, sizeof m, "no complete test within %.0f s", limit);
                                fail(kExitTimeout, m);
                            });
        rt.on_app([this](stack::Instant now) { return step(now); });
        rt.on_signal([this](int signo) {
            if (signo == SIGINT || signo == SIGTERM) {
                fail(kExitFailure, std::string("interrupted by ") + sigabbrev_np(signo));
            }
        });
        if (!rt.run() && rc == kExitOk) rc = kExitFailure;
        return rc;
    }

    std::string socket_error(stack::SocketHandle h) {
        return std::string(stack::to_string(tcp().error(h).value_or(stack::SocketError::Reset)));
    }

    bool step(stack::Instant now) {
        if (finished) return false;
        bool any = false;
        if (!control.valid()) {
            auto h = tcp().connect(now, o.server, o.port);
            if (!h) {
                fail(kExitConnection,
                     "connect to " + endpoint() + ": " + std::string(stack::to_string(h.error())));
                return false;
            }
            control = *h;
            return true;
        }
        stack::SocketEvent ev;
        while (tcp().next_event(ev)) {
            any = true;
            if (ev.handle == control) {
                if (ev.bits & stack::kEventError) {
                    const auto err = tcp().error(control).value_or(stack::SocketError::Reset);
                    fail(err == stack::SocketError::TimedOut ? kExitTimeout : kExitConnection,
                         (control_connected ? "control connection to " : "connect to ") +
                             endpoint() + ": " + std::string(stack::to_string(err)));
                    return false;
                }
                if (ev.bits & stack::kEventConnected) control_connected = true;
                continue;
            }
            for (Stream& s : streams) {
                if (ev.handle != s.h) continue;
                if (ev.bits & stack::kEventError) {
                    if (ended) {
                        s.closed = true;  // a reset after the test (the server closed) is fine
                    } else {
                        fail(kExitConnection,
                             "data stream to " + endpoint() + ": " + socket_error(s.h));
                        return false;
                    }
                }
                if (ev.bits & stack::kEventConnected) s.connected = true;
            }
        }
        if (!control_connected) return any;
        if (cookie_sent < cookie.size()) {
            any |= send_some(control, cookie, cookie_sent);
        }
        if (!flush()) return false;
        if (!read_control(now)) return false;
        if (finished) return any;
        if (creating && !connect_streams(now)) return false;
        any |= pump_streams(now);
        if (!flush()) return false;
        return any;
    }

    // Sends from `data` at `sent`; true if anything went.
    bool send_some(stack::SocketHandle h, const std::string& data, std::size_t& sent) {
        bool any = false;
        while (sent < data.size()) {
            auto n = tcp().send(
                h, stack::Bytes(reinterpret_cast<const std::uint8_t*>(data.data()) + sent,
                                data.size() - sent));
            if (!n || *n == 0) break;
            sent += *n;
            any = true;
        }
        return any;
    }

    bool flush() {
        if (out.empty()) return true;
        std::size_t sent = 0;
        send_some(control, out, sent);
        out.erase(0, sent);
        return true;
    }

    void send_state(ip3::State s) { out += static_cast<char>(ip3::state_byte(s)); }

    bool read_control(stack::Instant now) {
        for (int guard = 0; guard < 64; ++guard) {
            auto n = tcp().recv(control, stack::MutBytes(buf.data(), buf.size()));
            if (!n) {
                fail(kExitConnection, "control connection: " + socket_error(control));
                return false;
            }
            if (*n == 0) break;
            in.feed(std::string_view(reinterpret_cast<const char*>(buf.data()), *n));
            if (in.buffered() > ip3::kMaxMessage + 16) {
                fail(kExitProtocol, "the server sent more than a control message can hold");
                return false;
            }
        }
        for (int guard = 0; guard < 64 && !finished; ++guard) {
            if (expect_error_numbers) {
                std::int32_t code = 0, err = 0;
                if (!in.take_error_numbers(code, err)) break;
                std::string msg = "the server refused the test: " + ip3::describe_error(code);
                if (err != 0) msg += std::string(" (") + std::strerror(err) + ")";
                fail(kExitProtocol, msg);
                return false;
            }
            if (expect_results) {
                json::Value v;
                std::string error;
                const auto took = in.take_message(v, error);
                if (took == ip3::ControlReader::Take::NeedMore) break;
                if (took == ip3::ControlReader::Take::Error) {
                    fail(kExitProtocol, "the server's results: " + error);
                    return false;
                }
                auto r = ip3::parse_results(v);
                if (!r) {
                    fail(kExitProtocol, "the server's results: " + r.error());
                    return false;
                }
                remote = std::move(*r);
                expect_results = false;
                continue;
            }
            auto b = in.take_byte();
            if (!b) break;
            if (!on_state(now, *b)) return false;
        }
        if (!finished && tcp().eof(control).value_or(false) && in.buffered() == 0) {
            fail(kExitConnection, "the server closed the control connection during the test");
            return false;
        }
        return true;
    }

    bool on_state(stack::Instant now, std::uint8_t b) {
        const auto s = ip3::parse_state(b);
        if (!s) {
            fail(kExitProtocol,
                 "unknown state " + std::to_string(static_cast<int>(b)) + " from the server");
            return false;
        }
        switch (*s) {
            case ip3::State::ParamExchange: {
                ip3::TestParams p;
                p.reverse = o.reverse;
                p.parallel = o.parallel;
                p.duration_s = o.duration_s;
                p.omit_s = o.omit_s;
                p.client_version = "3.12";  // the protocol version we follow
                out += ip3::frame(ip3::params_json(p));
                return true;
            }
            case ip3::State::CreateStreams: creating = true; return connect_streams(now);
            case ip3::State::TestStart:
                start = now;
                count_from = now + stack::Duration::seconds(o.omit_s);
                cpu0 = ip3::process_cpu_times();
                rt.loop().add_timer(now + stack::Duration::seconds(o.duration_s + o.omit_s),
                                    [this](stack::Instant at) { end_test(at); });
                return true;
            case ip3::State::TestRunning: running = true; return true;
            case ip3::State::ExchangeResults:
                out += ip3::frame(ip3::results_json(local_results()));
                expect_results = true;
                return true;
            case ip3::State::DisplayResults: return display(now);
            case ip3::State::AccessDenied:
                fail(kExitProtocol, "the server is busy running a test (ACCESS_DENIED)");
                return false;
            case ip3::State::ServerError: expect_error_numbers = true; return true;
            case ip3::State::ServerTerminate:
                fail(kExitProtocol, "the server terminated the test");
                return false;
            default:
                fail(kExitProtocol,
                     "unexpected " + std::string(ip3::to_string(*s)) + " from the server");
                return false;
        }
    }

    void end_test(stack::Instant now) {
        if (finished || ended) return;
        running = false;
        ended = true;
        end = now;
        cpu1 = ip3::process_cpu_times();
        send_state(ip3::State::TestEnd);
        (void)flush();
    }

    // One stream at a time: the next connects once the previous one sent its cookie.
    bool connect_streams(stack::Instant now) {
        while (connecting < static_cast<std::size_t>(o.parallel)) {
            if (connecting < streams.size()) {
                Stream& s = streams[connecting];
                if (!s.connected) return true;
                send_some(s.h, cookie, s.cookie_sent);
                if (s.cookie_sent < cookie.size()) return true;
                ++connecting;
                continue;
            }
            auto h = tcp().connect(now, o.server, o.port);
            if (!h) {
                fail(kExitConnection, "connect a data stream to " + endpoint() + ": " +
                                          std::string(stack::to_string(h.error())));
                return false;
            }
            Stream s;
            s.h = *h;
            streams.push_back(s);
            return true;
        }
        creating = false;
        return true;
    }

    bool pump_streams(stack::Instant now) {
        bool any = false;
        const bool counting = running && now >= count_from;
        for (Stream& s : streams) {
            if (!s.connected || s.closed || s.cookie_sent < cookie.size()) continue;
            if (!o.reverse) {
                if (!running) continue;
                for (int guard = 0; guard < 256; ++guard) {
                    auto n = tcp().send(s.h, stack::Bytes(pattern.data(), pattern.size()));
                    if (!n) {
                        fail(kExitConnection, "data stream: " + socket_error(s.h));
                        return false;
                    }
                    if (*n == 0) break;
                    any = true;
                    if (counting) s.bytes += static_cast<std::int64_t>(*n);
                }
                continue;
            }
            // Reverse: read everything; count while running (draining goes on after TEST_END).
            for (int guard = 0; guard < 256; ++guard) {
                auto n = tcp().recv(s.h, stack::MutBytes(buf.data(), buf.size()));
                if (!n) {
                    if (ended) {
                        s.closed = true;
                        break;
                    }
                    fail(kExitConnection, "data stream: " + socket_error(s.h));
                    return false;
                }
                if (*n == 0) break;
                any = true;
                if (counting) s.bytes += static_cast<std::int64_t>(*n);
            }
        }
        return any;
    }

    ip3::Results local_results() {
        ip3::Results r;
        const double wall = seconds(end - start);
        if (wall > 0) {
            r.cpu_user = 100.0 * (cpu1.user_s - cpu0.user_s) / wall;
            r.cpu_system = 100.0 * (cpu1.system_s - cpu0.system_s) / wall;
            r.cpu_total = r.cpu_user + r.cpu_system;
        }
        r.sender_has_retransmits = o.reverse ? -1 : 1;
        r.congestion =
            tcp().config().congestion == stack::tcp::CcAlgorithm::Cubic ? "cubic" : "newreno";
        const double secs = end > count_from ? seconds(end - count_from) : 0.0;
        for (std::size_t i = 0; i < streams.size(); ++i) {
            ip3::StreamResult s;
            s.id = ip3::stream_id(i);
            s.bytes = streams[i].bytes;
            if (!o.reverse) {
                if (auto info = tcp().info(streams[i].h); info) {
                    s.retransmits = static_cast<std::int64_t>(info->retransmits);
                } else {
                    s.retransmits = 0;
                }
            }
            s.end_time = secs;
            r.streams.push_back(s);
        }
        return r;
    }

    bool display(stack::Instant now) {
        if (!remote) {
            fail(kExitProtocol, "DISPLAY_RESULTS before the server's results");
            return false;
        }
        const ip3::Results mine = local_results();
        for (const ip3::StreamResult& s : mine.streams) {
            const bool found =
                std::any_of(remote->streams.begin(), remote->streams.end(),
                            [&](const ip3::StreamResult& r) { return r.id == s.id; });
            if (!found) {
                fail(kExitProtocol, "the server's results lack stream " + std::to_string(s.id));
                return false;
            }
        }
        report = o.json ? json_report(mine) : text_report(mine);
        send_state(ip3::State::IperfDone);
        (void)flush();
        for (Stream& s : streams) {
            if (!s.closed) (void)tcp().close(now, s.h);
            s.closed = true;
        }
        (void)tcp().close(now, control);
        finished = true;
        rt.stop();
        return true;
    }

    const ip3::StreamResult* remote_stream(int id) const {
        for (const ip3::StreamResult& r : remote->streams) {
            if (r.id == id) return &r;
        }
        return nullptr;
    }

    struct Side {
        std::int64_t bytes = 0;
        double seconds = 0;
        std::int64_t retransmits = -1;
        double bps() const { return seconds > 0 ? static_cast<double>(bytes) * 8 / seconds : 0; }
    };
    struct Row {
        int id = 0;
        Side sender, receiver;
    };

    std::vector<Row> rows(const ip3::Results& mine, Row& sum) const {
        std::vector<Row> out;
        sum = Row{};
        sum.sender.retransmits = 0;
        for (const ip3::StreamResult& m : mine.streams) {
            const ip3::StreamResult* r = remote_stream(m.id);
            Row row;
            row.id = m.id;
            const ip3::StreamResult& snd = o.reverse ? *r : m;
            const ip3::StreamResult& rcv = o.reverse ? m : *r;
            row.sender = Side{snd.bytes, snd.end_time - snd.start_time, snd.retransmits};
            row.receiver = Side{rcv.bytes, rcv.end_time - rcv.start_time, -1};
            sum.sender.bytes += row.sender.bytes;
            sum.receiver.bytes += row.receiver.bytes;
            sum.sender.seconds = std::max(sum.sender.seconds, row.sender.seconds);
            sum.receiver.seconds = std::max(sum.receiver.seconds, row.receiver.seconds);
            if (row.sender.retransmits >= 0) sum.sender.retransmits += row.sender.retransmits;
            out.push_back(row);
        }
        return out;
    }

    std::string text_report(const ip3::Results& mine) const {
        Row sum;
        const std::vector<Row> rs = rows(mine, sum);
        std::string t = "tunstack: iperf3 with " + endpoint() + ": " + std::to_string(o.parallel) +
                        (o.parallel == 1 ? " stream, " : " streams, ") +
                        std::to_string(o.duration_s) + " s, " +
                        (o.reverse ? "reverse (the server sends)" : "forward (we send)") + "\n";
        t += "[ ID] Interval         Transfer       Bitrate         Retr\n";
        auto line = [&](const std::string& id, const Side& s, bool sender) {
            char b[160];
            std::snprintf(b, sizeof b, "[%3s] 0.00-%-6.2f sec  %-13s  %-14s  %4s  %s\n", id.c_str(),
                          s.seconds, format_bytes(static_cast<double>(s.bytes)).c_str(),
                          format_rate(s.bps()).c_str(),
                          sender && s.retransmits >= 0 ? std::to_string(s.retransmits).c_str() : "",
                          sender ? "sender" : "receiver");
            t += b;
        };
        for (const Row& r : rs) {
            line(std::to_string(r.id), r.sender, true);
            line(std::to_string(r.id), r.receiver, false);
        }
        if (rs.size() > 1) {
            line("SUM", sum.sender, true);
            line("SUM", sum.receiver, false);
        }
        char cpu[160];
        std::snprintf(cpu, sizeof cpu, "CPU utilization: local %.1f%%, remote %.1f%%\n",
                      mine.cpu_total, remote->cpu_total);
        t += cpu;
        return t;
    }

    static json::Value side_json(const Side& s, bool sender) {
        json::Value v = json::Value::object();
        v.set("start", json::Value::integer(0));
        v.set("end", json::Value::number(s.seconds));
        v.set("seconds", json::Value::number(s.seconds));
        v.set("bytes", json::Value::integer(s.bytes));
        v.set("bits_per_second", json::Value::number(s.bps()));
        if (sender) v.set("retransmits", json::Value::integer(s.retransmits));
        v.set("sender", json::Value::boolean(sender));
        return v;
    }

    std::string json_report(const ip3::Results& mine) const {
        Row sum;
        const std::vector<Row> rs = rows(mine, sum);
        json::Value root = json::Value::object();
        json::Value st = json::Value::object();
        json::Value to = json::Value::object();
        to.set("host", json::Value::string(o.server.to_string()));
        to.set("port", json::Value::integer(o.port));
        st.set("connecting_to", std::move(to));
        st.set("cookie", json::Value::string(cookie.substr(0, cookie.size() - 1)));
        json::Value ts = json::Value::object();
        ts.set("protocol", json::Value::string("TCP"));
        ts.set("num_streams", json::Value::integer(o.parallel));
        ts.set("omit", json::Value::integer(o.omit_s));
        ts.set("duration", json::Value::integer(o.duration_s));
        ts.set("reverse", json::Value::integer(o.reverse ? 1 : 0));
        st.set("test_start", std::move(ts));
        root.set("start", std::move(st));
        json::Value end_v = json::Value::object();
        json::Value arr = json::Value::array();
        for (const Row& r : rs) {
            json::Value e = json::Value::object();
            json::Value snd = side_json(r.sender, true);
            snd.set("id", json::Value::integer(r.id));
            json::Value rcv = side_json(r.receiver, false);
            rcv.set("id", json::Value::integer(r.id));
            e.set("sender", std::move(snd));
            e.set("receiver", std::move(rcv));
            arr.push(std::move(e));
        }
        end_v.set("streams", std::move(arr));
        end_v.set("sum_sent", side_json(sum.sender, true));
        end_v.set("sum_received", side_json(sum.receiver, false));
        json::Value cpu = json::Value::object();
        cpu.set("host_total", json::Value::number(mine.cpu_total));
        cpu.set("host_user", json::Value::number(mine.cpu_user));
        cpu.set("host_system", json::Value::number(mine.cpu_system));
        cpu.set("remote_total", json::Value::number(remote->cpu_total));
        cpu.set("remote_user", json::Value::number(remote->cpu_user));
        cpu.set("remote_system", json::Value::number(remote->cpu_system));
        end_v.set("cpu_utilization_percent", std::move(cpu));
        const std::string& local_cc = mine.congestion;
        const std::string& remote_cc = remote->congestion;
        end_v.set("sender_tcp_congestion", json::Value::string(o.reverse ? remote_cc : local_cc));
        end_v.set("receiver_tcp_congestion", json::Value::string(o.reverse ? local_cc : remote_cc));
        root.set("end", std::move(end_v));
        return json::serialize(root) + "\n";
    }
};

Iperf3Client::Iperf3Client(tools::Runtime& rt, const Iperf3Options& o, std::string cookie)
    : impl_(std::make_unique<Impl>(rt, o, std::move(cookie), report_)) {}

Iperf3Client::~Iperf3Client() = default;

int Iperf3Client::run() { return impl_->run(); }

}  // namespace tunstack
