#include <catch2/catch.hpp>

#include <sluice/core/chunk.hpp>

#include <string>

TEST_CASE("chunk appends, grows and keeps content", "[core][chunk]") {
    sluice::chunk c;
    CHECK(c.empty());
    c.append("hello");
    c.push_back(' ');
    c.append(std::string(1000, 'x'));
    CHECK(c.size() == 1006);
    CHECK(c.view().substr(0, 6) == "hello ");
    CHECK(c.capacity() >= c.size());
    auto cap = c.capacity();
    c.clear();
    CHECK(c.empty());
    CHECK(c.capacity() == cap);  // clearing keeps the buffer for reuse
}

TEST_CASE("chunk tail/commit and extend write in place", "[core][chunk]") {
    sluice::chunk c(16);
    CHECK(c.spare() == 16);
    c.tail()[0] = 'a';
    c.commit(1);
    char* p = c.extend(3);
    p[0] = 'b';
    p[1] = 'c';
    p[2] = 'd';
    CHECK(c.view() == "abcd");
    c.erase_front(2);
    CHECK(c.view() == "cd");
}

TEST_CASE("a moved-from chunk is empty and reusable", "[core][chunk]") {
    sluice::chunk a;
    a.append("data");
    sluice::chunk b = std::move(a);
    CHECK(b.view() == "data");
    CHECK(a.capacity() == 0);
    a.append("again");
    CHECK(a.view() == "again");
    auto c = b.clone();
    CHECK(c.view() == "data");
}

TEST_CASE("byte_like covers chunks and strings", "[core][chunk]") {
    static_assert(sluice::byte_like<sluice::chunk>);
    static_assert(sluice::byte_like<std::string>);
    static_assert(sluice::byte_like<std::string_view>);
    static_assert(!sluice::byte_like<int>);
    sluice::chunk c;
    c.append("xy");
    CHECK(sluice::bytes_of(c) == "xy");
    CHECK(sluice::bytes_of(std::string("ab")) == "ab");
}
