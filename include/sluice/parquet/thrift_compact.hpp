#pragma once
/// \file
/// A small hand-written Thrift *compact protocol* encoder and decoder: just what Parquet's
/// footer and page headers need (structs, i16/i32/i64 zigzag varints, binary, bool, double,
/// lists). The decoder is for untrusted bytes: every read is bounds-checked, nesting depth,
/// list sizes and string sizes are capped, and any violation throws `sluice::error`
/// (`errc::bad_input`, stage "parquet") instead of reading past the buffer or allocating
/// what a hostile length field claims.
///
/// Wire format in brief (Thrift's compact protocol spec): a field header is one byte
/// `(id delta << 4) | type` when the id grows by 1..15 since the previous field of the same
/// struct, else the type byte followed by the zigzag id; a struct ends with a 0 byte;
/// booleans live in the field type (1 true, 2 false); a list header is
/// `(size << 4) | elem type` for sizes below 15, else `0xF0 | elem type` + varint size.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"

namespace sluice::parquet::thrift {

/// The compact protocol's type nibbles.
enum class ctype : std::uint8_t {
    stop = 0,
    bool_true = 1,
    bool_false = 2,
    byte = 3,
    i16 = 4,
    i32 = 5,
    i64 = 6,
    dbl = 7,
    binary = 8,
    list = 9,
    set = 10,
    map = 11,
    strct = 12,
};

/// Limits for decoding untrusted input. The defaults fit every real Parquet footer by a wide
/// margin (Parquet nests structs about 6 deep) and stop a hostile one from recursing or
/// allocating without bound.
struct limits {
    int max_depth = 64;                           ///< struct/list nesting
    std::uint32_t max_list_size = 10'000'000;     ///< elements in one list
    std::uint32_t max_string_size = 256u << 20;  ///< bytes in one binary/string
};

/// Appends compact-protocol bytes to a caller's string. Structs are written with
/// `begin_struct()` ... `end_struct()`; nested structs and list elements reuse the pair.
class writer {
public:
    explicit writer(std::string& out) : out_(out) { last_.reserve(8); }

    /// Starts a top-level struct (a nested one starts with `field_struct` or `list_struct`).
    void begin_struct() { last_.push_back(0); }
    /// Ends the innermost struct: writes the stop byte.
    void end_struct() {
        out_.push_back(0);
        last_.pop_back();
    }

    void field_bool(std::int16_t id, bool v) {
        header(id, v ? ctype::bool_true : ctype::bool_false);
    }
    void field_i8(std::int16_t id, std::int8_t v) {
        header(id, ctype::byte);
        out_.push_back(static_cast<char>(v));
    }
    void field_i16(std::int16_t id, std::int16_t v) {
        header(id, ctype::i16);
        varint(zigzag(v));
    }
    void field_i32(std::int16_t id, std::int32_t v) {
        header(id, ctype::i32);
        varint(zigzag(v));
    }
    void field_i64(std::int16_t id, std::int64_t v) {
        header(id, ctype::i64);
        varint(zigzag(v));
    }
    void field_double(std::int16_t id, double v) {
        header(id, ctype::dbl);
        std::uint64_t bits;
        std::memcpy(&bits, &v, 8);
        for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(bits >> (8 * i)));
    }
    void field_binary(std::int16_t id, std::string_view v) {
        header(id, ctype::binary);
        binary(v);
    }
    /// A struct-valued field: its fields follow, then `end_struct()`.
    void field_struct(std::int16_t id) {
        header(id, ctype::strct);
        last_.push_back(0);
    }
    /// A list-valued field of `size` elements of type `elem`; the elements follow with the
    /// `list_*` calls (no end marker).
    void field_list(std::int16_t id, ctype elem, std::size_t size) {
        header(id, ctype::list);
        list_header(elem, size);
    }

    void list_i32(std::int32_t v) { varint(zigzag(v)); }
    void list_i64(std::int64_t v) { varint(zigzag(v)); }
    void list_binary(std::string_view v) { binary(v); }
    void list_bool(bool v) { out_.push_back(v ? 1 : 2); }
    /// A struct element of a list: its fields follow, then `end_struct()`.
    void list_struct() { last_.push_back(0); }

    /// The byte string being written.
    std::string& out() noexcept { return out_; }

private:
    static std::uint64_t zigzag(std::int64_t v) noexcept {
        return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
    }
    void varint(std::uint64_t v) {
        while (v >= 0x80) {
            out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
            v >>= 7;
        }
        out_.push_back(static_cast<char>(v));
    }
    void binary(std::string_view v) {
        varint(v.size());
        out_.append(v);
    }
    void header(std::int16_t id, ctype t) {
        std::int16_t& last = last_.back();
        const int delta = id - last;
        if (delta > 0 && delta <= 15) {
            out_.push_back(static_cast<char>((delta << 4) | static_cast<int>(t)));
        } else {
            out_.push_back(static_cast<char>(t));
            varint(zigzag(id));
        }
        last = id;
    }
    void list_header(ctype elem, std::size_t size) {
        if (size < 15) {
            out_.push_back(static_cast<char>((size << 4) | static_cast<std::size_t>(elem)));
        } else {
            out_.push_back(static_cast<char>(0xF0 | static_cast<int>(elem)));
            varint(size);
        }
    }

    std::string& out_;
    std::vector<std::int16_t> last_;
};

/// A field header read by `reader::next_field`: `type == ctype::stop` ends the struct.
struct field_header {
    ctype type = ctype::stop;
    std::int16_t id = 0;
};

/// A list header: element type and count (already checked against the bytes left).
struct list_header {
    ctype elem = ctype::stop;
    std::uint32_t size = 0;
};

/// Reads compact-protocol bytes from a buffer it does not own. All reads are checked; a
/// malformed or hostile input throws `sluice::error(errc::bad_input, "parquet", ...)`.
class reader {
public:
    reader(const void* data, std::size_t size, limits lim = {})
        : begin_(static_cast<const std::uint8_t*>(data)), p_(begin_), end_(begin_ + size),
          lim_(lim) {}
    explicit reader(std::string_view bytes, limits lim = {})
        : reader(bytes.data(), bytes.size(), lim) {}

    /// Bytes consumed so far (a page header's length, for instance).
    std::size_t consumed() const noexcept { return static_cast<std::size_t>(p_ - begin_); }
    std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }

    /// Enters a struct: call before reading its first field header. Checks the depth.
    void begin_struct() {
        if (static_cast<int>(last_.size()) >= lim_.max_depth) fail("nesting deeper than the limit");
        last_.push_back(0);
    }
    /// Leaves a struct after `next_field` returned stop.
    void end_struct() { last_.pop_back(); }

    /// The next field header of the current struct; `type == stop` at its end.
    field_header next_field() {
        const std::uint8_t b = byte();
        const auto t = static_cast<ctype>(b & 0x0F);
        if (t == ctype::stop) {
            if (b != 0) fail("bad field header");
            return {};
        }
        if (static_cast<std::uint8_t>(t) > static_cast<std::uint8_t>(ctype::strct))
            fail("unknown field type " + std::to_string(b & 0x0F));
        std::int16_t& last = last_.back();
        const int delta = b >> 4;
        std::int16_t id;
        if (delta != 0) {
            id = static_cast<std::int16_t>(last + delta);
        } else {
            const std::int64_t v = unzigzag(varint());
            if (v < INT16_MIN || v > INT16_MAX) fail("field id out of range");
            id = static_cast<std::int16_t>(v);
        }
        last = id;
        return {t, id};
    }

    /// A bool field's value (from its header type).
    bool read_bool(const field_header& f) {
        if (f.type == ctype::bool_true) return true;
        if (f.type == ctype::bool_false) return false;
        fail("expected a bool field");
    }
    /// A bool element of a list (one byte).
    bool list_bool() {
        const std::uint8_t b = byte();
        if (b == 1) return true;
        if (b == 0 || b == 2) return false;
        fail("bad bool list element");
    }
    std::int8_t read_i8() { return static_cast<std::int8_t>(byte()); }
    std::int16_t read_i16() {
        const std::int64_t v = unzigzag(varint());
        if (v < INT16_MIN || v > INT16_MAX) fail("i16 out of range");
        return static_cast<std::int16_t>(v);
    }
    std::int32_t read_i32() {
        const std::int64_t v = unzigzag(varint());
        if (v < INT32_MIN || v > INT32_MAX) fail("i32 out of range");
        return static_cast<std::int32_t>(v);
    }
    std::int64_t read_i64() { return unzigzag(varint()); }
    double read_double() {
        need(8);
        std::uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits |= std::uint64_t{p_[i]} << (8 * i);
        p_ += 8;
        double d;
        std::memcpy(&d, &bits, 8);
        return d;
    }
    /// A binary/string value as a view into the buffer (valid while the buffer is).
    std::string_view read_binary() {
        const std::uint64_t n = varint();
        if (n > lim_.max_string_size) fail("string longer than the limit");
        need(n);
        std::string_view s(reinterpret_cast<const char*>(p_), static_cast<std::size_t>(n));
        p_ += n;
        return s;
    }
    /// A list (or set) header. The size is checked against the limit and against the bytes
    /// left (every element takes at least one byte), so a caller may reserve `size`.
    list_header read_list_header() {
        const std::uint8_t b = byte();
        list_header h;
        h.elem = static_cast<ctype>(b & 0x0F);
        std::uint64_t n = b >> 4;
        if (n == 15) n = varint();
        if (n > lim_.max_list_size) fail("list longer than the limit");
        if (n > remaining()) fail("list size past the end of the data");
        h.size = static_cast<std::uint32_t>(n);
        if (h.size > 0 && (h.elem == ctype::stop || static_cast<std::uint8_t>(h.elem) >
                                                        static_cast<std::uint8_t>(ctype::strct)))
            fail("bad list element type");
        return h;
    }

    /// Skips a value of type `t` (an unknown field), within the depth limit.
    void skip(ctype t) { skip(t, 0); }

    /// Throws the decoder's error with `what` and the byte offset.
    [[noreturn]] void fail(const std::string& what) const {
        position pos;
        pos.byte_offset = consumed();
        throw error(errc::bad_input, "parquet", "corrupt Thrift metadata: " + what, pos);
    }

private:
    static std::int64_t unzigzag(std::uint64_t v) noexcept {
        return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
    }
    void need(std::uint64_t n) const {
        if (n > remaining()) fail("truncated (needs " + std::to_string(n) + " bytes, " +
                                  std::to_string(remaining()) + " left)");
    }
    std::uint8_t byte() {
        need(1);
        return *p_++;
    }
    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            const std::uint8_t b = byte();
            v |= std::uint64_t{b & 0x7Fu} << shift;
            if (!(b & 0x80)) return v;
        }
        fail("varint longer than 10 bytes");
    }
    void skip(ctype t, int depth) {
        if (depth + static_cast<int>(last_.size()) > lim_.max_depth)
            fail("nesting deeper than the limit");
        switch (t) {
            case ctype::bool_true:
            case ctype::bool_false:
                return;  // in a field header; list elements are handled below
            case ctype::byte: byte(); return;
            case ctype::i16:
            case ctype::i32:
            case ctype::i64: varint(); return;
            case ctype::dbl: need(8); p_ += 8; return;
            case ctype::binary: read_binary(); return;
            case ctype::list:
            case ctype::set: {
                const list_header h = read_list_header();
                for (std::uint32_t i = 0; i < h.size; ++i) {
                    if (h.elem == ctype::bool_true || h.elem == ctype::bool_false) byte();
                    else skip(h.elem, depth + 1);
                }
                return;
            }
            case ctype::map: {
                const std::uint64_t n = varint();
                if (n == 0) return;
                if (n > lim_.max_list_size || n > remaining()) fail("map size past the end");
                const std::uint8_t kv = byte();
                const auto kt = static_cast<ctype>(kv >> 4), vt = static_cast<ctype>(kv & 0x0F);
                for (std::uint64_t i = 0; i < n; ++i) {
                    skip_elem(kt, depth + 1);
                    skip_elem(vt, depth + 1);
                }
                return;
            }
            case ctype::strct: {
                begin_struct_at(depth);
                for (field_header f = next_field(); f.type != ctype::stop; f = next_field())
                    skip(f.type, depth + 1);
                end_struct();
                return;
            }
            case ctype::stop: break;
        }
        fail("cannot skip a value of type " + std::to_string(static_cast<int>(t)));
    }
    void skip_elem(ctype t, int depth) {
        if (t == ctype::bool_true || t == ctype::bool_false) byte();
        else skip(t, depth);
    }
    void begin_struct_at(int depth) {
        if (depth + static_cast<int>(last_.size()) >= lim_.max_depth)
            fail("nesting deeper than the limit");
        last_.push_back(0);
    }

    const std::uint8_t* begin_;
    const std::uint8_t* p_;
    const std::uint8_t* end_;
    limits lim_;
    std::vector<std::int16_t> last_;
};

/// Reads the fields of a struct: `on_field(reader&, field_header)` returns true when it
/// consumed the value, false to have it skipped (unknown or unwanted fields).
template <class F>
void read_struct(reader& r, F&& on_field) {
    r.begin_struct();
    for (field_header f = r.next_field(); f.type != ctype::stop; f = r.next_field())
        if (!on_field(r, f)) r.skip(f.type);
    r.end_struct();
}

/// Reads a list of `elem`-typed values (checked), calling `on_elem(reader&)` per element.
template <class F>
void read_list(reader& r, ctype expected, F&& on_elem) {
    const list_header h = r.read_list_header();
    if (h.size > 0 && h.elem != expected &&
        !(expected == ctype::bool_true && h.elem == ctype::bool_false))
        r.fail("list of unexpected element type");
    for (std::uint32_t i = 0; i < h.size; ++i) on_elem(r);
}

}  // namespace sluice::parquet::thrift
