// The iperf3 control protocol (as spoken by iperf 3.x, checked against Debian 12's iperf 3.12),
// shared by tunstackd's iperf3 service and `tunstack iperf3`. Our own code: no iperf3 source.
//
// A test, as the client drives it:
//   client: connects the control connection, writes the 37-byte cookie (36 characters + NUL)
//   server: PARAM_EXCHANGE          client: the parameters (a JSON message)
//   server: CREATE_STREAMS          client: opens `parallel` data connections, each writes the cookie
//   server: TEST_START, TEST_RUNNING   data flows (client → server, or server → client with -R)
//   client: TEST_END (after `time` s)
//   server: EXCHANGE_RESULTS        client: its results (JSON); server: its results (JSON)
//   server: DISPLAY_RESULTS         client: IPERF_DONE, closes everything
// States are one signed byte. A JSON message is a 4-byte big-endian length, then the JSON text.
// The server may answer a cookie with ACCESS_DENIED (busy) and anything with SERVER_ERROR followed
// by two 4-byte big-endian integers (iperf3's error number, an errno), then closes. Stream ids in
// the results are 1, 3, 4, 5, ... in the order the streams connected (iperf3 skips 2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stack/base/result.hpp"
#include "tools/common/json.hpp"

namespace tools::iperf3 {

enum class State : std::int8_t {
    TestStart = 1,
    TestRunning = 2,
    TestEnd = 4,
    ParamExchange = 9,
    CreateStreams = 10,
    ServerTerminate = 11,
    ClientTerminate = 12,
    ExchangeResults = 13,
    DisplayResults = 14,
    IperfStart = 15,
    IperfDone = 16,
    AccessDenied = -1,
    ServerError = -2,
};
std::string_view to_string(State s);
// The byte on the wire, and back (nullopt for a value that is no state).
std::uint8_t state_byte(State s);
std::optional<State> parse_state(std::uint8_t b);

// iperf3's error numbers (i_errno) that a server sends after SERVER_ERROR.
enum ErrorCode : std::int32_t {
    kErrDuration = 5,        // test duration too long
    kErrNumStreams = 6,      // too many parallel streams
    kErrBlockSize = 7,       // block size too large
    kErrOmit = 12,           // bogus value for --omit
    kErrUnimplemented = 13,  // not implemented
    kErrRecvParams = 114,    // unable to receive parameters from the client
    kErrRecvResults = 117,   // unable to receive results
    kErrProtocol = 131,      // protocol does not exist
};
// A short description of an iperf3 error number, for the client's message.
std::string describe_error(std::int32_t code);

constexpr std::size_t kCookieSize = 37;
// The largest JSON message either side accepts (results of 128 streams take ~20 KB).
constexpr std::size_t kMaxMessage = 64 * 1024;

// 36 printable ASCII characters (0x21..0x7e) then NUL. iperf3 uses base32 letters and digits.
bool valid_cookie(std::string_view cookie);
// A cookie from 36 random bytes (each mapped onto iperf3's base32 alphabet), NUL included.
std::string make_cookie(const std::uint8_t (&random)[36]);

// Stream ids: 1, 3, 4, 5, ... for the streams in connection order (index from 0).
int stream_id(std::size_t index);

// What the server accepts (see parse_params).
struct ServerLimits {
    int max_streams = 128;  // iperf3's own maximum
    int max_duration_s = 3600;
    int max_omit_s = 60;
};

struct TestParams {
    bool reverse = false;
    int parallel = 1;
    int duration_s = 10;
    int omit_s = 0;
    std::int64_t len = 128 * 1024;  // block size the sender writes
    std::string client_version;
};

struct Refusal {
    std::int32_t code = kErrRecvParams;  // sent to the client with SERVER_ERROR
    std::string message;                 // for our counters/log
};

// The client's parameter message. Only TCP, time-limited tests (-t), one direction (forward or
// -R), without a bitrate limit in reverse mode (the server does not pace) are accepted; unknown
// members are ignored as iperf3 does. Refused: not an object, UDP/SCTP, -n/-k byte or block
// limits, --bidir, time/parallel/omit/len outside the limits or not integers.
stack::Result<TestParams, Refusal> parse_params(const json::Value& v, const ServerLimits& limits);
// The client's message for `p` (what iperf3 3.12 sends for the same options).
json::Value params_json(const TestParams& p);

struct StreamResult {
    int id = 0;
    std::int64_t bytes = 0;
    std::int64_t retransmits = -1;  // -1: not known (a receiver)
    double start_time = 0;          // seconds from the test's start
    double end_time = 0;
};

struct Results {
    double cpu_total = 0, cpu_user = 0, cpu_system = 0;  // percent of one CPU over the test
    std::int64_t sender_has_retransmits = -1;            // 1: the sender counted them; -1 not
    std::string congestion;                              // "cubic", "newreno", ... ("" omitted)
    std::vector<StreamResult> streams;
};

json::Value results_json(const Results& r);
// A results message: an object with the cpu_util_* numbers, sender_has_retransmits and streams
// whose entries have id, bytes and retransmits (numbers; start_time/end_time optional). Numbers
// beyond int64 (iperf3 writes -1 as 18446744073709551615) read as -1.
stack::Result<Results, std::string> parse_results(const json::Value& v);

// A JSON message: 4-byte big-endian length + text.
std::string frame(const json::Value& v);
// SERVER_ERROR with its two numbers.
std::string server_error(std::int32_t code, std::int32_t err);

// Incremental reader of a control connection's bytes: feed what arrives, then take a state byte
// or a whole JSON message, as the protocol step expects.
class ControlReader {
public:
    enum class Take : std::uint8_t { NeedMore, Ok, Error };
    void feed(std::string_view bytes) { buf_.append(bytes); }
    std::size_t buffered() const { return buf_.size() - pos_; }
    // A state byte (any value; the caller judges it).
    std::optional<std::uint8_t> take_byte();
    // The next byte, left in place (a message's first length byte is 0, as kMaxMessage < 2^24:
    // anything else where a message is due is a state, e.g. CLIENT_TERMINATE).
    std::optional<std::uint8_t> peek_byte() const;
    // A JSON message; Error (with `error`) for a length of 0 or over kMaxMessage, or bad JSON.
    Take take_message(json::Value& out, std::string& error);
    // Two big-endian int32 (SERVER_ERROR's payload).
    bool take_error_numbers(std::int32_t& code, std::int32_t& err);

private:
    void compact();
    std::string buf_;
    std::size_t pos_ = 0;
};

// This process's CPU time so far (getrusage), in seconds.
struct CpuTimes {
    double user_s = 0, system_s = 0;
};
CpuTimes process_cpu_times();

}  // namespace tools::iperf3
