#pragma once
/// \file
/// `parquet::to_partitions(schema, options, target)`: a sink of rows that writes Hive-style
/// partitioned Parquet: one file `col=value[/col2=value2]/part-00000.parquet` per distinct
/// value of the partition columns, which are left out of the files (as Hive, Spark and
/// DuckDB do: readers take them from the path).
///
/// - Values are escaped as Hive escapes them (`hive_escape`): control characters and
///   `"#%'*/:=?\{[]^` and DEL become `%XX`; NULL and the empty string are
///   `__HIVE_DEFAULT_PARTITION__`. A value is its text (booleans as true/false).
/// - Memory is one budget across all open partitions (`memory_bytes`): each partition keeps
///   its open row group as compressed pages (parquet/writer.hpp); when the sum reaches the
///   budget, the largest partition's row group is written to its file. Files are never
///   closed early, so a partition is one file of one or more row groups, never many tiny
///   files. (An S3 target also holds each partition's unfinished upload part.)
/// - More distinct partitions than `max_partitions` is an `errc::limit` error naming the
///   one that passed the limit.
/// - Atomic: every file is committed at `finish()` (a file target: temporary + rename; S3:
///   CompleteMultipartUpload); a failure before aborts them all (nothing is created, S3
///   uploads are aborted), a failure while committing removes the files already committed
///   (`target.remove`), and the directories the run made are removed again.
///
/// Rows: Postgres rows (`is_null(i)`, `value(i)`) or CSV rows (`size()`, `operator[]`; the
/// schema may then be left out: every column a string named by the header).

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../core/context.hpp"
#include "../core/memory_budget.hpp"
#include "../core/chunk.hpp"
#include "../core/error.hpp"
#include "../core/sink.hpp"
#include "../sinks/any_bytes.hpp"
#include "../sinks/to_file.hpp"
#include "encode.hpp"
#include "schema.hpp"
#include "writer.hpp"

namespace sluice::parquet {

/// The directory name Hive gives a NULL or empty partition value.
inline constexpr std::string_view hive_default_partition = "__HIVE_DEFAULT_PARTITION__";

/// A partition column name or value as Hive writes it in a path (FileUtils.escapePathName):
/// bytes 0x01-0x1F, 0x7F and `"#%'*/:=?\{[]^` as `%XX` (upper-case hex); the rest as is.
inline std::string hive_escape(std::string_view v) {
    static constexpr std::string_view special = "\"#%'*/:=?\\{[]^";
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(v.size());
    for (char ch : v) {
        const auto u = static_cast<unsigned char>(ch);
        if (u < 0x20 || u == 0x7F || special.find(ch) != std::string_view::npos) {
            out.push_back('%');
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 0xF]);
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

/// Options of `to_partitions`.
struct partition_options {
    /// The partition columns, outermost directory first.
    std::vector<std::string> columns;
    /// One budget for the open row groups of all partitions together.
    std::size_t memory_bytes = 64u << 20;
    /// More distinct partitions than this fail the run.
    std::size_t max_partitions = 1000;
    /// The file name inside each partition directory.
    std::string file_name = "part-00000.parquet";
    /// The writer's options; `row_group_bytes`/`row_group_rows` still close a partition's
    /// row group early.
    write_options write;
};

/// Where the files go, by their path relative to the output root (`d=1/part-00000.parquet`).
struct partition_target {
    /// A byte sink for a new file (two-phase: `finish` commits, `abort` undoes).
    std::function<any_byte_sink(const std::string& path)> open;
    /// Removes a file already committed (a later file failed to commit). May be empty.
    std::function<void(const std::string& path)> remove;
    /// After a failed run: removes what `open` made besides files (directories). May be empty.
    std::function<void()> cleanup;
};

/// A local directory: directories made as needed (and removed again after a failed run),
/// files through `to_file` (temporary + rename).
inline partition_target directory_target(std::string root) {
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    auto made = std::make_shared<std::vector<std::string>>();
    partition_target t;
    t.open = [root, made](const std::string& path) -> any_byte_sink {
        auto make_dir = [&made](const std::string& dir) {
            if (::mkdir(dir.c_str(), 0755) == 0) made->push_back(dir);
            else if (errno != EEXIST)
                throw error(errc::io, "partition", errno_message("cannot create directory", dir, errno));
        };
        if (made->empty()) make_dir(root);  // the root itself, when missing
        for (std::size_t at = 0; at <= path.size();) {
            const std::size_t slash = path.find('/', at);
            if (slash == std::string::npos) break;
            make_dir(root + "/" + path.substr(0, slash));
            at = slash + 1;
        }
        return to_file(root + "/" + path);
    };
    t.remove = [root](const std::string& path) { ::unlink((root + "/" + path).c_str()); };
    t.cleanup = [made] {
        for (auto it = made->rbegin(); it != made->rend(); ++it) ::rmdir(it->c_str());
        made->clear();
    };
    return t;
}

/// What `to_partitions` wrote.
struct partition_result {
    std::uint64_t rows = 0;
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
};

namespace detail {

/// A row without the partition columns, in the shape of the row it views.
template <class Row>
struct projected_row {
    const Row* row;
    const std::vector<std::size_t>* keep;

    std::size_t size() const noexcept { return keep->size(); }
    bool is_null(int i) const
        requires text_row_with_nulls<Row>
    {
        return row->is_null(static_cast<int>((*keep)[static_cast<std::size_t>(i)]));
    }
    std::string_view value(int i) const
        requires text_row_with_nulls<Row>
    {
        return std::string_view(row->value(static_cast<int>((*keep)[static_cast<std::size_t>(i)])));
    }
    std::string_view operator[](std::size_t i) const
        requires(!text_row_with_nulls<Row>)
    {
        return std::string_view((*row)[(*keep)[i]]);
    }
};

}  // namespace detail

/// The sink of `to_partitions`; see the file comment.
class partition_sink : public sink_base {
public:
    partition_sink(std::optional<schema> s, partition_options o, partition_target t)
        : opt_(std::move(o)), target_(std::move(t)) {
        if (opt_.columns.empty()) throw error(errc::usage, "partition", "no partition columns given");
        if (s) set_schema(std::move(*s));
    }
    partition_sink(partition_sink&&) noexcept = default;
    ~partition_sink() { abort_all(); }

    /// Reports the open row groups of all partitions to the run's memory plan as a request:
    /// `memory_bytes` of buffered pages counts what the pages hold, and their strings'
    /// spare capacity, the dictionaries' indexes and a flushed row group's copies come to
    /// about as much again twice over, so a grant G allows `memory_bytes` = (G - the page
    /// compressor) / 3, and pages and dictionaries of at most an eighth of that each.
    /// Nothing is created before the first row.
    void bind(run_context& ctx) {
        const std::size_t codec = page_codec_bytes();
        ctx.memory.request("parquet.partitions", "open row groups of all partitions",
                           codec + 3 * std::min<std::size_t>(opt_.memory_bytes, 1u << 20),
                           codec + 3 * opt_.memory_bytes,
                           [this, codec](std::size_t granted, std::string& what) {
                               opt_.memory_bytes = std::min(opt_.memory_bytes, (granted - codec) / 3);
                               const std::size_t each =
                                   std::max<std::size_t>(64 * 1024, opt_.memory_bytes / 8);
                               write_options& w = opt_.write;
                               w.page_bytes = std::min(w.page_bytes, each);
                               w.dictionary_bytes = std::min(w.dictionary_bytes, each);
                               w.dictionary_entries = std::min<std::uint32_t>(
                                   w.dictionary_entries, static_cast<std::uint32_t>(w.dictionary_bytes / 16));
                               what = "open row groups of all partitions, " +
                                      format_bytes(opt_.memory_bytes) + " of pages";
                               return codec + 3 * opt_.memory_bytes;
                           });
    }

    template <class Row>
    bool push(const Row& r) {
        if (!full_) {
            if constexpr (requires { r.header().names(); }) set_schema(schema::all_strings(r.header().names()));
            else throw error(errc::usage, "partition", "partitioned output needs a schema");
        }
        const std::size_t n = static_cast<std::size_t>(r.size());
        if (n != full_->columns.size())
            throw error(errc::bad_input, "partition",
                        "row " + std::to_string(rows_ + 1) + " has " + std::to_string(n) +
                            " fields, the schema has " + std::to_string(full_->columns.size()) + " columns");
        part& p = partition_of(r);
        const std::size_t before = p.writer->buffered_bytes();
        detail::write_row(*p.writer, detail::projected_row<Row>{&r, &keep_});
        ++rows_;
        buffered_ += p.writer->buffered_bytes();
        buffered_ -= std::min(buffered_, before);
        if (p.writer->has_output()) ship(p);  // the partition closed a row group itself
        while (buffered_ >= opt_.memory_bytes && flush_largest()) {}
        return true;
    }

    /// Writes every file's last row group and footer, then commits them all.
    partition_result finish() {
        partition_result res;
        res.rows = rows_;
        for (auto& p : parts_) {
            p->writer->finish();
            ship(*p);
        }
        std::size_t committed = 0;
        try {
            for (; committed < parts_.size(); ++committed)
                res.bytes += parts_[committed]->sink->finish();
        } catch (...) {
            // Undo the files already in place, abort the rest.
            if (target_.remove)
                for (std::size_t i = 0; i < committed; ++i) target_.remove(parts_[i]->path);
            for (std::size_t i = committed + 1; i < parts_.size(); ++i)
                parts_[i]->sink->abort(current_error());
            parts_.clear();
            if (target_.cleanup) target_.cleanup();
            throw;
        }
        res.files = parts_.size();
        parts_.clear();
        index_.clear();
        return res;
    }

    void abort(const error&) noexcept { abort_all(); }

    /// Distinct partitions so far.
    std::size_t partitions() const noexcept { return parts_.size(); }
    /// Bytes held in open row groups across all partitions.
    std::size_t buffered_bytes() const noexcept { return buffered_; }

private:
    /// The page codec's state while a page is compressed (as `parquet::encode` counts it).
    std::size_t page_codec_bytes() const {
        const write_options& w = opt_.write;
        switch (w.codec) {
            case compression_codec::zstd: return ZSTD_estimateCStreamSize(w.level.value_or(3)) + w.page_bytes / 2;
            case compression_codec::gzip: return (std::size_t{1} << 20) + w.page_bytes / 2;
            case compression_codec::snappy: return w.page_bytes + w.page_bytes / 6;
            default: return 0;
        }
    }

    struct part {
        std::string path;
        std::unique_ptr<file_writer> writer;
        std::optional<any_byte_sink> sink;
    };

    void set_schema(schema s) {
        std::vector<bool> is_key(s.columns.size(), false);
        for (const std::string& name : opt_.columns) {
            auto it = std::find_if(s.columns.begin(), s.columns.end(),
                                   [&](const column& c) { return c.name == name; });
            if (it == s.columns.end())
                throw error(errc::usage, "partition", "'" + name + "' is not a column of the output");
            const auto i = static_cast<std::size_t>(it - s.columns.begin());
            if (is_key[i]) throw error(errc::usage, "partition", "'" + name + "' is named twice");
            is_key[i] = true;
            key_cols_.push_back(i);
        }
        for (std::size_t i = 0; i < s.columns.size(); ++i)
            if (!is_key[i]) {
                keep_.push_back(i);
                file_schema_.columns.push_back(s.columns[i]);
            }
        if (keep_.empty())
            throw error(errc::usage, "partition", "every column is a partition column: the files would have none");
        full_ = std::move(s);
    }

    template <class Row>
    static std::optional<std::string_view> key_value(const Row& r, std::size_t i) {
        if constexpr (detail::text_row_with_nulls<Row>) {
            if (r.is_null(static_cast<int>(i))) return std::nullopt;
            return std::string_view(r.value(static_cast<int>(i)));
        } else {
            return std::string_view(r[i]);
        }
    }

    /// A value's text as readers cast it back: booleans as true/false (Postgres prints t/f).
    static std::string_view canonical(const column& c, std::string_view v) {
        bool b = false;
        if (c.type.type == value_type::boolean && !c.type.list && text::parse_bool(v, b))
            return b ? "true" : "false";
        return v;
    }

    template <class Row>
    part& partition_of(const Row& r) {
        key_.clear();
        for (std::size_t k = 0; k < key_cols_.size(); ++k) {
            const std::size_t i = key_cols_[k];
            const auto v = key_value(r, i);
            key_ += hive_escape(full_->columns[i].name);
            key_ += '=';
            if (!v || v->empty()) key_ += hive_default_partition;
            else key_ += hive_escape(canonical(full_->columns[i], *v));
            key_ += '/';
        }
        if (auto it = index_.find(key_); it != index_.end()) return *parts_[it->second];
        if (parts_.size() >= opt_.max_partitions)
            throw error(errc::limit, "partition",
                        "'" + key_.substr(0, key_.size() - 1) + "' would be partition " +
                            std::to_string(parts_.size() + 1) + ", past the limit of " +
                            std::to_string(opt_.max_partitions) + " (max_partitions)");
        auto p = std::make_unique<part>();
        p->path = key_ + opt_.file_name;
        p->writer = std::make_unique<file_writer>(file_schema_, opt_.write);
        buffered_ += p->writer->buffered_bytes();
        index_.emplace(key_, parts_.size());
        parts_.push_back(std::move(p));
        return *parts_.back();
    }

    /// Sends a partition's pending bytes to its file (opened at the first bytes).
    void ship(part& p) {
        if (!p.sink) p.sink.emplace(target_.open(p.path));
        while (p.writer->has_output()) {
            out_.clear();
            p.writer->take_output(out_, 256 * 1024);
            p.sink->push(out_);
        }
    }

    /// Writes the largest open row group; false when there is nothing to write.
    bool flush_largest() {
        part* largest = nullptr;
        std::size_t most = 0;
        for (auto& p : parts_) {
            const std::size_t b = p->writer->buffered_bytes();
            if (b > most && p->writer->rows() > 0) {
                most = b;
                largest = p.get();
            }
        }
        if (!largest) return false;
        largest->writer->flush_row_group();
        const std::size_t after = largest->writer->buffered_bytes();
        if (after >= most) return false;
        buffered_ -= std::min(buffered_, most - after);
        ship(*largest);
        return true;
    }

    void abort_all() noexcept {
        if (parts_.empty()) return;
        const error e(errc::cancelled, "partition", "the run failed");
        for (auto& p : parts_)
            if (p->sink) p->sink->abort(e);
        parts_.clear();
        index_.clear();
        if (target_.cleanup) target_.cleanup();
    }

    partition_options opt_;
    partition_target target_;
    std::optional<schema> full_;
    schema file_schema_;
    std::vector<std::size_t> key_cols_, keep_;
    std::vector<std::unique_ptr<part>> parts_;
    std::unordered_map<std::string, std::size_t> index_;
    std::string key_;
    chunk out_;
    std::size_t buffered_ = 0;
    std::uint64_t rows_ = 0;
};

/// `run(rows, parquet::to_partitions(schema, options, target))`; see the file comment.
/// `schema` may be `std::nullopt` for CSV rows (all strings, named by the header).
inline partition_sink to_partitions(std::optional<schema> s, partition_options o, partition_target t) {
    return partition_sink(std::move(s), std::move(o), std::move(t));
}

}  // namespace sluice::parquet
