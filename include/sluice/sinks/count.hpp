#pragma once
/// \file
/// `count()`: the number of records that reached the end of the pipeline.

#include <cstdint>

#include "../core/sink.hpp"
#include "../core/run.hpp"  // `source | sink` runs through terminal_run

namespace sluice {

namespace detail {
class count_sink : public sink_base {
public:
    template <class R>
    bool push(R&&) noexcept {
        ++n_;
        return true;
    }
    std::uint64_t finish() noexcept { return n_; }

private:
    std::uint64_t n_ = 0;
};
}  // namespace detail

/// `pipeline | count()` runs the pipeline and returns how many records it yielded.
struct count_fn {
    detail::count_sink operator()() const noexcept { return {}; }
};
inline constexpr count_fn count{};

}  // namespace sluice
