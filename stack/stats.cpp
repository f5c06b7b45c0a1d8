#include "stack/stats.hpp"

namespace stack {

void Stats::visit(function_ref<void(std::string_view, std::uint64_t)> fn) const {
#define TUNSTACK_STATS_VISIT(field, name) fn(name, field);
    TUNSTACK_STATS(TUNSTACK_STATS_VISIT)
#undef TUNSTACK_STATS_VISIT
}

std::int64_t Stats::get(std::string_view name) const {
#define TUNSTACK_STATS_GET(field, text) \
    if (name == (text)) return static_cast<std::int64_t>(field);
    TUNSTACK_STATS(TUNSTACK_STATS_GET)
#undef TUNSTACK_STATS_GET
    return -1;
}

}  // namespace stack
