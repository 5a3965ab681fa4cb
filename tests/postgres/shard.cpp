// Exported snapshots, shard planning (ctid and key ranges) and task streams.
#include <sluice/postgres/shard_plan.hpp>
#include <sluice/postgres/snapshot.hpp>
#include <sluice/postgres/task_stream.hpp>
#include <sluice/sinks/fold.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pg_support.hpp"

namespace pg = sluice::pg;

namespace {

/// The first column of every row of `sql` (as text), sorted.
std::vector<std::string> ids(pg::connection& c, const std::string& sql) {
    auto r = c.exec(sql);
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.value(i, 0));
    std::sort(out.begin(), out.end());
    return out;
}

/// The first column of every row of every task, sorted (duplicates kept).
std::vector<std::string> union_of_tasks(pg::connection& c, const pg::shard_plan& plan) {
    std::vector<std::string> all;
    for (const auto& t : plan.tasks) {
        auto part = ids(c, t.query);
        all.insert(all.end(), part.begin(), part.end());
    }
    std::sort(all.begin(), all.end());
    return all;
}

/// Splits CSV text into its lines without the header, sorted.
std::vector<std::string> csv_rows(const std::string& text, bool header) {
    std::vector<std::string> out;
    std::size_t at = 0;
    bool first = true;
    while (at < text.size()) {
        auto nl = text.find('\n', at);
        std::string line = text.substr(at, nl - at);
        at = nl == std::string::npos ? text.size() : nl + 1;
        if (first && header) {
            first = false;
            continue;
        }
        out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string collect(auto&& src) {
    std::string out;
    for (auto& c : src) out.append(c.data(), c.size());
    return out;
}

}  // namespace

TEST_CASE("block_ranges: half-open, the last open-ended", "[postgres][shard]") {
    using R = pg::block_range;
    CHECK(pg::block_ranges(0, 8) == std::vector<R>{{0, std::nullopt}});
    CHECK(pg::block_ranges(8, 8) == std::vector<R>{{0, std::nullopt}});
    CHECK(pg::block_ranges(9, 8) == std::vector<R>{{0, 8}, {8, std::nullopt}});
    CHECK(pg::block_ranges(20, 8) == std::vector<R>{{0, 8}, {8, 16}, {16, std::nullopt}});
    CHECK(pg::ctid_predicate({3, 7}) == "ctid >= '(3,0)' AND ctid < '(7,0)'");
    CHECK(pg::ctid_predicate({7, std::nullopt}) == "ctid >= '(7,0)'");
}

TEST_CASE("auto_task_blocks: every worker the same number of tasks, at most the cap",
          "[postgres][shard]") {
    CHECK(pg::auto_task_blocks(0, 4) == 1);
    CHECK(pg::auto_task_blocks(3, 4) == 1);
    CHECK(pg::auto_task_blocks(300, 4) == 19);                 // 16 tasks of 19 blocks
    CHECK(pg::auto_task_blocks(100000, 4) == 1924);            // 13 tasks per shard
    CHECK(pg::auto_task_blocks(100000, 1, 4, 1 << 20) == 25000);  // no cap: 4 tasks
    for (std::uint64_t blocks : {1u, 7u, 64u, 300u, 999u, 2048u, 9000u, 60000u, 1000003u}) {
        for (std::size_t n : {1u, 2u, 3u, 4u, 7u, 16u}) {
            const auto per = pg::auto_task_blocks(blocks, n);
            CHECK(per <= 2048);
            const auto ranges = pg::block_ranges(blocks, per);
            // Tasks k mod n: a table of at least n blocks gives every shard a task, and a
            // large one the same number of tasks to every shard.
            std::vector<std::size_t> count(n);
            for (std::size_t k = 0; k < ranges.size(); ++k) ++count[k % n];
            auto [lo, hi] = std::minmax_element(count.begin(), count.end());
            if (blocks >= n) CHECK(*lo >= 1);
            if (blocks >= 8192 * n) CHECK(*hi == *lo);
            if (blocks >= 8192 * n) CHECK(ranges.size() % n == 0);
        }
    }
}

TEST_CASE("tasks_of_shard: task k to shard k mod N", "[postgres][shard]") {
    pg::shard_plan p;
    for (std::size_t i = 0; i < 7; ++i) p.tasks.push_back({i, "q" + std::to_string(i), ""});
    auto s1 = pg::tasks_of_shard(p, 1, 3);
    REQUIRE(s1.size() == 2);
    CHECK(s1[0].index == 1);
    CHECK(s1[1].index == 4);
    CHECK_THROWS_AS(pg::tasks_of_shard(p, 3, 3), sluice::error);
}

TEST_CASE("snapshot: an importer sees the holder's view, and a gone id says so",
          "[postgres][shard][snapshot]") {
    PG_REQUIRE_SERVER();
    pg::connection w(test_dsn());
    w.exec("DROP TABLE IF EXISTS shard_snap; CREATE TABLE shard_snap (id int); "
           "INSERT INTO shard_snap SELECT generate_series(1, 100)");
    std::string id;
    {
        pg::snapshot_holder h(test_dsn());
        id = h.id();
        CHECK(pg::is_snapshot_id(id));
        w.exec("INSERT INTO shard_snap SELECT generate_series(101, 150); "
               "DELETE FROM shard_snap WHERE id <= 10");
        pg::connection r(test_dsn());
        pg::import_snapshot(r, id);
        CHECK(r.exec("SELECT count(*), min(id), max(id) FROM shard_snap").value(0, 0) == "100");
        CHECK(r.exec("SELECT max(id) FROM shard_snap").value(0, 0) == "100");
        r.exec("COMMIT");
        CHECK(w.exec("SELECT count(*) FROM shard_snap").value(0, 0) == "140");
    }
    pg::connection late(test_dsn());
    try {
        pg::import_snapshot(late, id);
        FAIL("importing a released snapshot succeeded");
    } catch (const sluice::error& e) {
        CHECK(e.code() == sluice::errc::server);
        CHECK_THAT(e.message(), Catch::Contains("snapshot " + id + " is gone"));
    }
    CHECK_FALSE(late.in_transaction());
    CHECK_THROWS_AS(pg::import_snapshot(late, "x'; DROP TABLE shard_snap; --"), sluice::error);
    CHECK(w.exec("SELECT count(*) FROM shard_snap").value(0, 0) == "140");
}

TEST_CASE("plan_table: ctid ranges cover the table exactly, also after it grew",
          "[postgres][shard][plan]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    // autovacuum off: relpages stays 0 (never analyzed) although the table has many pages.
    c.exec("DROP TABLE IF EXISTS shard_ctid; CREATE TABLE shard_ctid (id int, pad text) WITH "
           "(autovacuum_enabled = off); INSERT INTO shard_ctid SELECT g, repeat('x', 200) FROM "
           "generate_series(1, 5000) g; DELETE FROM shard_ctid WHERE id % 7 = 0");
    CHECK(c.exec("SELECT relpages FROM pg_class WHERE oid = 'shard_ctid'::regclass").value(0, 0) ==
          "0");
    pg::shard_plan_options o;
    o.task_blocks = 5;
    auto plan = pg::plan_table(c, "shard_ctid", o);
    CHECK(plan.method == pg::shard_method::ctid);
    CHECK(plan.blocks > 20);
    REQUIRE(plan.tasks.size() == (plan.blocks + 4) / 5);
    CHECK(plan.tasks.back().range.find("<") == std::string::npos);  // open-ended
    auto explain = c.exec("EXPLAIN " + plan.tasks[1].query);
    CHECK_THAT(std::string(explain.value(0, 0)), Catch::Contains("Tid Range Scan"));

    // Grown after planning: the open last range takes the new pages.
    c.exec("INSERT INTO shard_ctid SELECT g, repeat('y', 300) FROM generate_series(5001, 9000) g");
    auto all = union_of_tasks(c, plan);
    CHECK(all == ids(c, "SELECT id FROM shard_ctid"));
    CHECK(std::set<std::string>(all.begin(), all.end()).size() == all.size());
}

TEST_CASE("plan_table: a small table split 4 ways by separate planners, the table growing "
          "between them", "[postgres][shard][plan]") {
    PG_REQUIRE_SERVER();
    pg::connection w(test_dsn());
    w.exec("DROP TABLE IF EXISTS shard_small; CREATE TABLE shard_small (id int, pad text) WITH "
           "(autovacuum_enabled = off); INSERT INTO shard_small SELECT g, repeat('s', 150) FROM "
           "generate_series(1, 30000) g");
    pg::snapshot_holder h(test_dsn());
    pg::shard_plan_options o;
    o.workers = 4;  // no task_blocks: the automatic size, as `--shard I/4` plans
    auto plan_in_snapshot = [&] {
        pg::connection c(test_dsn());
        pg::import_snapshot(c, h.id());
        auto p = pg::plan_table(c, "shard_small", o);
        c.exec("COMMIT");
        return p;
    };
    auto first = plan_in_snapshot();
    const auto blocks_then = std::stoull(std::string(
        w.exec("SELECT pg_relation_size('shard_small') / 8192").value(0, 0)));
    CHECK(first.blocks == blocks_then);
    CHECK(first.blocks > 100);
    CHECK(first.blocks < 2048);
    // Rows written after the snapshot add pages: a shard planning now sees a bigger relation
    // but the same visible blocks, so the same tasks.
    w.exec("INSERT INTO shard_small SELECT g, repeat('n', 150) FROM generate_series(1, 20000) g");
    CHECK(std::stoull(std::string(w.exec("SELECT pg_relation_size('shard_small') / 8192").value(
              0, 0))) > blocks_then + 100);
    auto second = plan_in_snapshot();
    CHECK(second.blocks == first.blocks);
    CHECK(second.task_blocks == first.task_blocks);
    REQUIRE(second.tasks.size() == first.tasks.size());
    for (std::size_t i = 0; i < first.tasks.size(); ++i)
        CHECK(second.tasks[i].query == first.tasks[i].query);

    // Each of the 4 shards reads rows, and together exactly the snapshot's.
    pg::connection r(test_dsn());
    pg::import_snapshot(r, h.id());
    std::vector<std::string> all;
    for (std::size_t shard = 0; shard < 4; ++shard) {
        std::vector<std::string> mine;
        for (const auto& t : pg::tasks_of_shard(first, shard, 4)) {
            auto part = ids(r, t.query);
            mine.insert(mine.end(), part.begin(), part.end());
        }
        CHECK(mine.size() > 30000 / 8);  // balanced: about a quarter each
        all.insert(all.end(), mine.begin(), mine.end());
    }
    std::sort(all.begin(), all.end());
    CHECK(all == ids(r, "SELECT id FROM shard_small"));
    CHECK(all.size() == 30000);

    // Rows only in a trailing page no longer visible: the plan stops before it.
    w.exec("DELETE FROM shard_small WHERE pad LIKE 'n%'");
    pg::connection late(test_dsn());
    auto after = pg::plan_table(late, "shard_small", o);
    CHECK(after.blocks == first.blocks);
}

TEST_CASE("plan_table: a partitioned table falls back to key ranges", "[postgres][shard][plan]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    c.exec("DROP TABLE IF EXISTS shard_part; CREATE TABLE shard_part (id bigint PRIMARY KEY, v "
           "text) PARTITION BY RANGE (id); CREATE TABLE shard_part_a PARTITION OF shard_part FOR "
           "VALUES FROM (MINVALUE) TO (1000); CREATE TABLE shard_part_b PARTITION OF shard_part "
           "FOR VALUES FROM (1000) TO (MAXVALUE); INSERT INTO shard_part SELECT g * 3 - 500, 'v' "
           "FROM generate_series(1, 2000) g");
    pg::shard_plan_options o;
    o.workers = 3;
    auto plan = pg::plan_table(c, "shard_part", o);
    CHECK(plan.method == pg::shard_method::key);
    CHECK(plan.column == "id");
    CHECK(plan.tasks.size() == 24);
    auto all = union_of_tasks(c, plan);
    CHECK(all == ids(c, "SELECT id FROM shard_part"));

    c.exec("DROP TABLE IF EXISTS shard_nokey; CREATE TABLE shard_nokey (v text) PARTITION BY "
           "LIST (v); CREATE TABLE shard_nokey_a PARTITION OF shard_nokey DEFAULT");
    CHECK_THROWS_WITH(pg::plan_table(c, "shard_nokey"), Catch::Contains("shard_by"));
}

TEST_CASE("plan_query: a view or query split on a column, NULLs and text keys included",
          "[postgres][shard][plan]") {
    PG_REQUIRE_SERVER();
    pg::connection c(test_dsn());
    c.exec("DROP VIEW IF EXISTS shard_view; DROP TABLE IF EXISTS shard_src; CREATE TABLE "
           "shard_src (id int, name text); INSERT INTO shard_src SELECT g, CASE WHEN g % 10 = 0 "
           "THEN NULL ELSE md5(g::text) END FROM generate_series(1, 3000) g; CREATE VIEW "
           "shard_view AS SELECT * FROM shard_src WHERE id % 3 <> 0");
    pg::shard_plan_options o;
    o.shard_by = "name";
    o.key_ranges = 7;
    auto plan = pg::plan_table(c, "shard_view", o);
    CHECK(plan.method == pg::shard_method::key);
    CHECK(plan.tasks.size() == 7);
    CHECK(union_of_tasks(c, plan) == ids(c, "SELECT * FROM shard_view"));

    o.shard_by = "id";
    auto q = pg::plan_query(c, "SELECT * FROM shard_view WHERE id > 100; -- trailing", o);
    CHECK(q.tasks.size() == 7);
    CHECK(union_of_tasks(c, q) == ids(c, "SELECT * FROM shard_view WHERE id > 100"));
    CHECK_THROWS_AS(pg::plan_table(c, "shard_view"), sluice::error);  // a view has no ctid
    CHECK_THROWS_AS(pg::plan_query(c, "SELECT 1", {}), sluice::error);

    auto empty = pg::plan_query(c, "SELECT * FROM shard_src WHERE false", o);
    CHECK(empty.tasks.size() == 1);
}

TEST_CASE("copy_tasks: 3 workers on one snapshot equal one COPY, each part with its header",
          "[postgres][shard][task_stream]") {
    PG_REQUIRE_SERVER();
    pg::connection w(test_dsn());
    w.exec("DROP TABLE IF EXISTS shard_copy; CREATE TABLE shard_copy (id int, t text); INSERT "
           "INTO shard_copy SELECT g, 'row ' || g FROM generate_series(1, 20000) g");
    pg::snapshot_holder h(test_dsn());
    pg::connection planner(test_dsn());
    pg::import_snapshot(planner, h.id());
    pg::shard_plan_options o;
    o.workers = 3;
    auto plan = pg::plan_table(planner, "shard_copy", o);
    planner.exec("COMMIT");
    // Written after the snapshot: none of it may show.
    w.exec("INSERT INTO shard_copy SELECT g, 'late' FROM generate_series(1, 5000) g; "
           "UPDATE shard_copy SET t = 'changed' WHERE id % 5 = 0");

    pg::task_queue queue(plan.tasks);
    std::vector<std::string> parts(4);
    std::vector<std::jthread> workers;
    pg::copy_out_options co;
    co.header = true;
    for (std::size_t i = 0; i < parts.size(); ++i)
        workers.emplace_back([&, i] {
            pg::connection c(test_dsn());
            pg::import_snapshot(c, h.id());
            parts[i] = collect(pg::copy_tasks(c, queue, plan.query, co));
            c.exec("COMMIT");
        });
    workers.clear();

    pg::connection one(test_dsn());
    pg::import_snapshot(one, h.id());
    auto whole = collect(pg::copy_out(one, "SELECT * FROM shard_copy", co));
    std::vector<std::string> got;
    for (const auto& p : parts) {
        CHECK(p.rfind("id,t\n", 0) == 0);  // every part starts with the header
        auto rows = csv_rows(p, true);
        got.insert(got.end(), rows.begin(), rows.end());
    }
    std::sort(got.begin(), got.end());
    CHECK(got.size() == 20000);
    CHECK(got == csv_rows(whole, true));
}
