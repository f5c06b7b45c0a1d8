#include "stack/tcp/congestion.hpp"

#include "stack/base/assert.hpp"
#include "stack/tcp/cubic.hpp"
#include "stack/tcp/newreno.hpp"

namespace stack::tcp {

std::string_view to_string(CcAlgorithm a) {
    switch (a) {
        case CcAlgorithm::NewReno: return "newreno";
        case CcAlgorithm::Cubic: return "cubic";
    }
    return "?";
}

namespace {
bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (x != b[i]) return false;
    }
    return true;
}
}  // namespace

std::optional<CcAlgorithm> parse_cc(std::string_view name) {
    if (iequals(name, "newreno") || iequals(name, "reno")) return CcAlgorithm::NewReno;
    if (iequals(name, "cubic")) return CcAlgorithm::Cubic;
    return std::nullopt;
}

std::unique_ptr<CongestionControl> make_congestion_control(CcAlgorithm algorithm,
                                                           std::uint32_t smss) {
    STACK_ASSERT(smss > 0);
    switch (algorithm) {
        case CcAlgorithm::NewReno: return std::make_unique<NewReno>(smss);
        case CcAlgorithm::Cubic: return std::make_unique<Cubic>(smss);
    }
    STACK_ASSERT(false && "unknown CcAlgorithm");
    return nullptr;
}

}  // namespace stack::tcp
