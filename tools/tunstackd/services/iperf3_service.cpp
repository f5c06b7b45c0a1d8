#include "tools/tunstackd/services/iperf3_service.hpp"

#include <algorithm>
#include <array>
#include <functional>

namespace tunstackd {

namespace ip3 = tools::iperf3;
namespace json = tools::json;

namespace {

constexpr stack::Duration kSetupTimeout = stack::Duration::seconds(10);
constexpr stack::Duration kGrace = stack::Duration::seconds(10);
constexpr std::size_t kPatternSize = 64 * 1024;

bool failed(std::uint8_t bits) { return (bits & stack::kEventError) != 0; }

double seconds(stack::Duration d) { return static_cast<double>(d.as_micros()) / 1e6; }

// PlainChannel plus one deadline that the session sets (the host asks every channel for its
// deadline and fires it through on_deadline).
class TimerChannel final : public Channel {
public:
    TimerChannel(stack::tcp::TcpLayer& tcp, stack::SocketHandle h) : inner_(tcp, h) {}
    Gate begin(stack::Instant now, std::uint8_t bits) override { return inner_.begin(now, bits); }
    Io recv(stack::MutBytes out) override { return inner_.recv(out); }
    Io send(stack::Bytes data) override { return inner_.send(data); }
    bool peer_finished() const override { return inner_.peer_finished(); }
    void close(stack::Instant now, bool linger) override {
        deadline_ = stack::Instant::never();
        inner_.close(now, linger);
    }
    void abort(stack::Instant now) override {
        deadline_ = stack::Instant::never();
        inner_.abort(now);
    }
    bool closed() const override { return inner_.closed(); }
    bool failed() const override { return inner_.failed(); }
    // The earlier of the session's deadline and the inner channel's own (a lingering close).
    stack::Instant deadline() const override { return std::min(deadline_, inner_.deadline()); }
    void on_deadline(stack::Instant now) override {
        if (inner_.deadline() <= now) inner_.on_deadline(now);
        if (deadline_ > now) return;
        deadline_ = stack::Instant::never();
        if (fire_) fire_(now);
    }

    void set(stack::Instant at) { deadline_ = at; }
    void on_fire(std::function<void(stack::Instant)> fn) { fire_ = std::move(fn); }

private:
    PlainChannel inner_;
    stack::Instant deadline_ = stack::Instant::never();
    std::function<void(stack::Instant)> fire_;
};

class Iperf3Session;

}  // namespace

class Iperf3Test {
public:
    enum class Phase : std::uint8_t { Params, Streams, Running, Ended, Done };
    std::string cookie;
    ip3::TestParams params;
    Phase phase = Phase::Params;
    stack::SocketHandle control;
    std::vector<Iperf3Session*> streams;  // in join order; nullptr once a stream's session is gone
    std::vector<stack::SocketHandle> stream_handles;
    std::vector<std::int64_t> bytes;
    std::vector<std::int64_t> retransmits;
    stack::Instant start, count_from, end;
    ip3::CpuTimes cpu0;
};

namespace {

class Iperf3Session final : public Session {
public:
    enum class Role : std::uint8_t { Unknown, Control, Data };

    Iperf3Session(Iperf3Hub& hub, stack::SocketHandle h, ServiceCounters& c)
        : Session(hub.tcp(), h, c), hub_(hub) {}

    ~Iperf3Session() override {
        if (role_ == Role::Data && test_ != nullptr && index_ < test_->streams.size()) {
            test_->streams[index_] = nullptr;
        }
        if (owned_) teardown();
    }

    void attach_timer(TimerChannel* t, stack::Instant now) {
        timer_ = t;
        timer_->on_fire([this](stack::Instant at) { on_timer(at); });
        timer_->set(now + kSetupTimeout);  // the cookie (and, for a control, the parameters)
    }

    void detach() { test_ = nullptr; }

    void drain(stack::Instant now) override {
        draining_ = true;
        if (role_ == Role::Control && owned_ && owned_->phase != Iperf3Test::Phase::Done) {
            abort_test();
            queue(std::string(1, static_cast<char>(ip3::state_byte(ip3::State::ServerTerminate))));
            flush(now);
        }
        discard_input(now);
        // A data stream is not closed under a client that is still sending: a close with unread
        // input resets it, and the client's next write fails ("Broken pipe") before it reads the
        // SERVER_TERMINATE on its control connection. Its input is dropped until the client,
        // told on the control connection, closes it (or the drain timeout resets it).
        if (role_ == Role::Data && !peer_finished()) return;
        finish(now, false);
    }

    void on_event(stack::Instant now, std::uint8_t bits) override {
        if (failed(bits)) {
            if (role_ == Role::Control) abort_test();
            return finish(now, true);
        }
        if (close_after_flush_) {
            discard_input(now);
            return flush(now);
        }
        switch (role_) {
            case Role::Unknown: read_cookie(now); break;
            case Role::Control: control(now); break;
            case Role::Data: data(now); break;
        }
    }

private:
    using Phase = Iperf3Test::Phase;

    // ---- every connection: the cookie ----

    void read_cookie(stack::Instant now) {
        while (cookie_.size() < ip3::kCookieSize && !done_) {
            std::array<std::uint8_t, ip3::kCookieSize> buf{};
            const std::size_t n =
                recv(now, stack::MutBytes(buf.data(), ip3::kCookieSize - cookie_.size()));
            if (n == 0) {
                if (!done_ && peer_finished()) finish(now, false);
                return;
            }
            cookie_.append(reinterpret_cast<const char*>(buf.data()), n);
        }
        if (done_) return;
        if (!ip3::valid_cookie(cookie_)) {
            ++hub_.counters().bad_cookie;
            return finish(now, true);
        }
        if (Iperf3Test* t = hub_.find(cookie_)) {
            if (t->phase != Phase::Streams ||
                t->streams.size() >= static_cast<std::size_t>(t->params.parallel)) {
                ++hub_.counters().bad_cookie;  // a stream for a test that takes none now
                return finish(now, true);
            }
            role_ = Role::Data;
            test_ = t;
            index_ = t->streams.size();
            t->streams.push_back(this);
            t->stream_handles.push_back(h_);
            t->bytes.push_back(0);
            t->retransmits.push_back(-1);
            ++hub_.counters().streams;
            timer_->set(stack::Instant::never());
            hub_.wake(t->control);  // it starts the test once every stream is there
            return data(now);
        }
        if (hub_.busy()) {
            ++hub_.counters().busy;
            queue(std::string(1, static_cast<char>(ip3::state_byte(ip3::State::AccessDenied))));
            close_after_flush_ = true;
            return flush(now);
        }
        role_ = Role::Control;
        owned_ = std::make_unique<Iperf3Test>();
        owned_->cookie = cookie_;
        owned_->control = h_;
        hub_.add(cookie_, owned_.get());
        queue(std::string(1, static_cast<char>(ip3::state_byte(ip3::State::ParamExchange))));
        control(now);
    }

    // ---- the control connection ----

    void queue(const std::string& bytes) { out_ += bytes; }
    void send_state(ip3::State s) { queue(std::string(1, static_cast<char>(ip3::state_byte(s)))); }

    // Sends what the socket takes; closes once everything went if asked to.
    void flush(stack::Instant now) {
        while (out_pos_ < out_.size() && !done_) {
            const std::size_t n = send(
                now, stack::Bytes(reinterpret_cast<const std::uint8_t*>(out_.data()) + out_pos_,
                                  out_.size() - out_pos_));
            if (n == 0) break;
            out_pos_ += n;
        }
        if (out_pos_ == out_.size()) {
            out_.clear();
            out_pos_ = 0;
            if (close_after_flush_ && !done_) {
                discard_input(now);
                finish(now, refused_);
            }
        }
    }

    void refuse(stack::Instant now, std::uint64_t& counter, std::int32_t code) {
        ++counter;
        refused_ = true;
        abort_test();
        queue(ip3::server_error(code, 0));
        close_after_flush_ = true;
        flush(now);
    }

    void control(stack::Instant now) {
        flush(now);
        for (int guard = 0; guard < 64 && !done_ && !close_after_flush_; ++guard) {
            std::array<std::uint8_t, 4096> buf{};
            const std::size_t n = recv(now, stack::MutBytes(buf.data(), buf.size()));
            if (n == 0) break;
            in_.feed(std::string_view(reinterpret_cast<const char*>(buf.data()), n));
            if (in_.buffered() > ip3::kMaxMessage + 16) {
                return refuse(now, hub_.counters().bad_message, ip3::kErrRecvParams);
            }
        }
        if (done_ || close_after_flush_) return;
        step(now);
        if (done_ || close_after_flush_) return;
        flush(now);
        if (!done_ && peer_finished()) {
            // The client went away before IPERF_DONE.
            abort_test();
            finish(now, true);
        }
    }

    void step(stack::Instant now) {
        Iperf3Test& t = *owned_;
        for (int guard = 0; guard < 16 && !done_ && !close_after_flush_; ++guard) {
            switch (t.phase) {
                case Phase::Params: {
                    json::Value v;
                    std::string error;
                    const auto took = in_.take_message(v, error);
                    if (took == ip3::ControlReader::Take::NeedMore) return;
                    if (took == ip3::ControlReader::Take::Error) {
                        return refuse(now, hub_.counters().bad_params, ip3::kErrRecvParams);
                    }
                    auto p = ip3::parse_params(v, hub_.limits());
                    if (!p) {
                        const bool not_params = p.error().code == ip3::kErrRecvParams;
                        return refuse(now,
                                      not_params ? hub_.counters().bad_params
                                                 : hub_.counters().refused_params,
                                      p.error().code);
                    }
                    t.params = *p;
                    t.phase = Phase::Streams;
                    send_state(ip3::State::CreateStreams);
                    timer_->set(now + kSetupTimeout);
                    break;
                }
                case Phase::Streams: {
                    if (auto b = in_.take_byte()) {
                        if (ip3::parse_state(*b) == ip3::State::ClientTerminate) {
                            return client_terminated(now);
                        }
                        return unexpected(now);
                    }
                    if (t.streams.size() < static_cast<std::size_t>(t.params.parallel)) return;
                    t.phase = Phase::Running;
                    t.start = now;
                    t.count_from = now + stack::Duration::seconds(t.params.omit_s);
                    t.cpu0 = ip3::process_cpu_times();
                    ++hub_.counters().tests;
                    send_state(ip3::State::TestStart);
                    send_state(ip3::State::TestRunning);
                    timer_->set(now +
                                stack::Duration::seconds(t.params.duration_s + t.params.omit_s) +
                                kGrace);
                    wake_streams();
                    return;
                }
                case Phase::Running: {
                    auto b = in_.take_byte();
                    if (!b) return;
                    const auto s = ip3::parse_state(*b);
                    if (s == ip3::State::ClientTerminate) return client_terminated(now);
                    if (s != ip3::State::TestEnd) return unexpected(now);
                    t.phase = Phase::Ended;
                    t.end = now;
                    for (std::size_t i = 0; i < t.stream_handles.size(); ++i) {
                        if (!t.params.reverse) continue;  // a receiver has no retransmits
                        if (auto info = tcp_.info(t.stream_handles[i]); info) {
                            t.retransmits[i] = static_cast<std::int64_t>(info->retransmits);
                        }
                    }
                    send_state(ip3::State::ExchangeResults);
                    timer_->set(now + kSetupTimeout);
                    wake_streams();  // senders stop and close
                    break;
                }
                case Phase::Ended: {
                    if (in_.peek_byte() == ip3::state_byte(ip3::State::ClientTerminate)) {
                        return client_terminated(now);  // instead of the results
                    }
                    json::Value v;
                    std::string error;
                    const auto took = in_.take_message(v, error);
                    if (took == ip3::ControlReader::Take::NeedMore) return;
                    if (took == ip3::ControlReader::Take::Error || !ip3::parse_results(v)) {
                        return refuse(now, hub_.counters().bad_message, ip3::kErrRecvResults);
                    }
                    queue(ip3::frame(ip3::results_json(results())));
                    send_state(ip3::State::DisplayResults);
                    t.phase = Phase::Done;
                    break;
                }
                case Phase::Done: {
                    auto b = in_.take_byte();
                    if (!b) return;
                    const auto s = ip3::parse_state(*b);
                    if (s == ip3::State::ClientTerminate) return client_terminated(now);
                    if (s != ip3::State::IperfDone) return unexpected(now);
                    ++hub_.counters().tests_done;
                    finished_ok_ = true;
                    close_after_flush_ = true;
                    flush(now);
                    return;
                }
            }
        }
    }

    ip3::Results results() const {
        const Iperf3Test& t = *owned_;
        ip3::Results r;
        const ip3::CpuTimes cpu = ip3::process_cpu_times();
        const double wall = seconds(t.end - t.start);
        if (wall > 0) {
            r.cpu_user = 100.0 * (cpu.user_s - t.cpu0.user_s) / wall;
            r.cpu_system = 100.0 * (cpu.system_s - t.cpu0.system_s) / wall;
            r.cpu_total = r.cpu_user + r.cpu_system;
        }
        r.sender_has_retransmits = t.params.reverse ? 1 : -1;
        r.congestion =
            tcp_.config().congestion == stack::tcp::CcAlgorithm::Cubic ? "cubic" : "newreno";
        const double secs = t.end > t.count_from ? seconds(t.end - t.count_from) : 0.0;
        for (std::size_t i = 0; i < t.bytes.size(); ++i) {
            ip3::StreamResult s;
            s.id = ip3::stream_id(i);
            s.bytes = t.bytes[i];
            s.retransmits = t.retransmits[i];
            s.start_time = 0;
            s.end_time = secs;
            r.streams.push_back(s);
        }
        return r;
    }

    void unexpected(stack::Instant now) {
        refuse(now, hub_.counters().bad_message, ip3::kErrRecvParams);
    }

    void client_terminated(stack::Instant now) {
        abort_test();
        close_after_flush_ = true;
        flush(now);
    }

    void wake_streams() {
        if (!owned_) return;
        for (std::size_t i = 0; i < owned_->streams.size(); ++i) {
            if (owned_->streams[i] != nullptr) hub_.wake(owned_->stream_handles[i]);
        }
    }

    // The test ends early (not by IPERF_DONE): counted once if it had started.
    void abort_test() {
        if (!owned_ || aborted_ || finished_ok_) return;
        aborted_ = true;
        if (owned_->phase != Phase::Params && owned_->phase != Phase::Streams) {
            ++hub_.counters().tests_aborted;
        }
    }

    // The control session is going: its streams close, the port takes a new test.
    void teardown() {
        abort_test();
        for (std::size_t i = 0; i < owned_->streams.size(); ++i) {
            if (Iperf3Session* s = owned_->streams[i]) {
                s->detach();
                hub_.wake(owned_->stream_handles[i]);
            }
        }
        hub_.remove(owned_->cookie);
        owned_.reset();
    }

    void on_timer(stack::Instant now) {
        ++hub_.counters().timeouts;
        if (role_ == Role::Control && owned_ && owned_->phase == Phase::Running) {
            send_state(ip3::State::ServerTerminate);
        }
        abort_test();
        flush(now);
        finish(now, true);
    }

    // ---- data streams ----

    void discard_input(stack::Instant now) {
        for (int guard = 0; guard < 4096 && !done_; ++guard) {
            std::array<std::uint8_t, 16384> scratch{};
            if (recv(now, stack::MutBytes(scratch.data(), scratch.size())) == 0) return;
        }
    }

    void data(stack::Instant now) {
        if (test_ == nullptr || draining_) {
            discard_input(now);
            if (draining_ && !peer_finished()) return;  // see drain()
            return finish(now, false);
        }
        const bool running = test_->phase == Phase::Running;
        const bool counting = running && now >= test_->count_from;
        if (!test_->params.reverse) {
            // Forward: we receive. Bytes count while the test runs; afterwards they are drained
            // until the client closes the stream.
            for (int guard = 0; guard < 4096 && !done_; ++guard) {
                std::array<std::uint8_t, 16384> scratch{};
                const std::size_t n = recv(now, stack::MutBytes(scratch.data(), scratch.size()));
                if (n == 0) break;
                if (counting) test_->bytes[index_] += static_cast<std::int64_t>(n);
            }
            if (!done_ && peer_finished()) finish(now, false);
            return;
        }
        // Reverse: we send while the test runs, then close (FIN after what is queued).
        discard_input(now);
        if (done_) return;
        if (test_->phase == Phase::Ended || test_->phase == Phase::Done) return finish(now, false);
        if (!running) {
            if (peer_finished()) finish(now, false);
            return;
        }
        const auto& pattern = hub_.pattern();
        for (int guard = 0; guard < 4096 && !done_; ++guard) {
            const std::size_t n = send(now, stack::Bytes(pattern.data(), pattern.size()));
            if (n == 0) break;
            if (counting) test_->bytes[index_] += static_cast<std::int64_t>(n);
        }
    }

    Iperf3Hub& hub_;
    TimerChannel* timer_ = nullptr;
    Role role_ = Role::Unknown;
    std::string cookie_;
    // control
    std::unique_ptr<Iperf3Test> owned_;
    ip3::ControlReader in_;
    std::string out_;
    std::size_t out_pos_ = 0;
    bool close_after_flush_ = false;
    bool refused_ = false;
    bool aborted_ = false;
    bool finished_ok_ = false;
    // data
    Iperf3Test* test_ = nullptr;
    std::size_t index_ = 0;
};

}  // namespace

Iperf3Hub::Iperf3Hub(stack::tcp::TcpLayer& tcp, WakeQueue& wakes,
                     const tools::iperf3::ServerLimits& limits)
    : tcp_(tcp), wakes_(wakes), limits_(limits), pattern_(kPatternSize) {
    // Printable, so a capture of a reverse test is readable; the content does not matter.
    for (std::size_t i = 0; i < pattern_.size(); ++i) {
        pattern_[i] = static_cast<std::uint8_t>('0' + i % 10);
    }
}

Iperf3Hub::~Iperf3Hub() = default;

Iperf3Test* Iperf3Hub::find(const std::string& cookie) {
    auto it = tests_.find(cookie);
    return it == tests_.end() ? nullptr : it->second;
}

std::unique_ptr<Session> Iperf3Hub::make_session(stack::SocketHandle h, ServiceCounters& c,
                                                 stack::Instant now) {
    auto s = std::make_unique<Iperf3Session>(*this, h, c);
    auto ch = std::make_unique<TimerChannel>(tcp_, h);
    s->attach_timer(ch.get(), now);
    s->use_channel(std::move(ch));
    return s;
}

void Iperf3Hub::append_stats(const std::string& prefix, std::string& out) const {
    auto line = [&](const char* name, std::uint64_t v) {
        out += prefix;
        out += name;
        out += ' ';
        out += std::to_string(v);
        out += '\n';
    };
    const Iperf3Counters& c = counters_;
    line("tests", c.tests);
    line("tests_done", c.tests_done);
    line("tests_aborted", c.tests_aborted);
    line("streams", c.streams);
    line("busy", c.busy);
    line("bad_cookie", c.bad_cookie);
    line("bad_params", c.bad_params);
    line("refused_params", c.refused_params);
    line("bad_message", c.bad_message);
    line("timeouts", c.timeouts);
}

}  // namespace tunstackd
