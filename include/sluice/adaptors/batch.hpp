#pragma once
/// \file
/// `batch(n)`: groups records into vectors of up to n owned records (the last may be
/// shorter). The vector is reused: it is valid until the next pull; move from it to keep it.

#include <cstddef>
#include <utility>
#include <vector>

#include "../core/adaptor.hpp"
#include "../core/error.hpp"
#include "../core/owned.hpp"
#include "../core/stage.hpp"

namespace sluice {

namespace detail {

template <class Up>
class batch_stage : public stage_base<batch_stage<Up>, Up> {
    using base = stage_base<batch_stage<Up>, Up>;

public:
    using value_type = owned_t<reference_t<Up>>;
    using reference = std::vector<value_type>&;

    batch_stage(Up up, std::size_t n) : base(std::move(up)), n_(n) {
        if (n_ == 0) throw error(errc::usage, "batch", "batch size must be at least 1");
    }

    maybe<reference> next() {
        start();
        while (buf_.size() < n_) {
            auto r = this->up_.next();
            if (!r) break;
            buf_.push_back(sluice::to_owned(detail::unwrap(r)));
        }
        if (buf_.empty()) return {};
        return buf_;
    }

    template <class F>
    bool for_each_while(F&& f) {
        start();
        downstream out(f);
        this->up_.for_each_while([&](auto&& x) -> bool {
            buf_.push_back(sluice::to_owned(SLUICE_FWD(x)));
            if (buf_.size() == n_) {
                if (!out(buf_)) return false;
                start();
            }
            return true;
        });
        if (out.stopped()) return false;
        if (!buf_.empty()) {
            bool go = f(buf_);
            buf_.clear();
            return go;
        }
        return true;
    }

private:
    void start() {
        buf_.clear();
        if (buf_.capacity() < n_) buf_.reserve(n_);
    }

    std::size_t n_;
    std::vector<value_type> buf_;
};

}  // namespace detail

/// `records | batch(n)` yields `std::vector<owned record>&` of up to n records.
struct batch_fn : adaptor<batch_fn> {
    template <class Up>
    static auto make(Up up, std::size_t n) {
        return detail::batch_stage<Up>(std::move(up), n);
    }
};
inline constexpr batch_fn batch{};

}  // namespace sluice
