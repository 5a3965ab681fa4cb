#pragma once
// What `--on-error skip` builds: one error policy (sluice::on_error) shared by every stage of
// the run that can reject a record (the CSV or JSON reader, the JSON mapping, the loader),
// drawing from one reject budget (--max-errors; 0: no limit), its dead letters written by a
// sluice::dead_letter_file (--dead-letter) as JSON lines {stage, line|record, error, raw}.

#include <sluice/policy/error_policy.hpp>
#include <sluice/sinks/dead_letter_file.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace cli {

class dead_letters {
public:
    dead_letters(std::string path, std::uint64_t max_errors)
        : budget_(max_errors ? max_errors : sluice::unlimited_rejects), path_(std::move(path)) {
        if (!path_.empty()) file_.emplace(path_);
    }

    /// The run's policy: rejects are skipped, written to the file when there is one, and
    /// the one past the budget fails the run (errc::limit).
    auto policy() { return sluice::on_error::dead_letter(writer{file_ ? &*file_ : nullptr}).within(budget_); }

    void commit() {
        if (file_) file_->finish();
    }
    void abort(const sluice::error& e) noexcept {
        if (file_) file_->abort(e);
    }
    /// Records rejected so far, by every stage.
    std::uint64_t count() const noexcept { return budget_.used(); }
    const std::string& path() const noexcept { return path_; }

private:
    struct writer {
        sluice::dead_letter_file* file;
        void operator()(sluice::dead_letter_record&& d) const {
            if (file) file->push(d);
        }
    };

    sluice::reject_budget budget_;
    std::string path_;
    std::optional<sluice::dead_letter_file> file_;
};

}  // namespace cli
