#pragma once
/// \file
/// `to_vector()`: collects the records into a std::vector of owned values.

#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/owned.hpp"
#include "../core/sink.hpp"
#include "../core/run.hpp"  // `source | sink` runs through terminal_run

namespace sluice {

namespace detail {
template <class T>
class to_vector_sink : public sink_base {
public:
    template <class R>
    bool push(R&& r) {
        if constexpr (std::is_constructible_v<T, R&&>)
            v_.emplace_back(std::forward<R>(r));
        else
            v_.emplace_back(sluice::to_owned(std::forward<R>(r)));
        return true;
    }
    std::vector<T> finish() { return std::move(v_); }

private:
    std::vector<T> v_;
};

/// `to_vector()` without a type: a sink factory that picks `owned_t<record>` once the
/// record type is known (see `make_sink` in run.hpp).
struct to_vector_deduced : terminal_tag {
    template <class R>
    auto make_sink() const {
        return to_vector_sink<owned_t<R>>();
    }
};
}  // namespace detail

/// `pipeline | to_vector()` returns a std::vector of the records. Records that are views
/// into buffers (string_view, row views) are stored as owned copies (`to_owned`), so the
/// result never dangles. `to_vector<T>()` picks the element type.
template <class T = void>
auto to_vector() {
    if constexpr (std::is_void_v<T>)
        return detail::to_vector_deduced{};
    else
        return detail::to_vector_sink<T>{};
}

}  // namespace sluice
