// Tests for sim/rbtree: the red-black tree behind epoll's rbr.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "sim/rbtree.h"

using eps::RbKey;
using eps::RbTree;
using Catch::Matchers::Contains;

namespace {

RbKey K(int fd) { return RbKey{1, fd}; }

// Records the observer calls as short strings: "rotL(1)", "rotR(15)", "black(2)", "red(3)".
struct Recorder : RbTree::Observer {
  std::vector<std::string> events;
  void on_rotate(const RbKey& pivot, bool right) override {
    events.push_back(std::string(right ? "rotR(" : "rotL(") + std::to_string(pivot.fd) + ")");
  }
  void on_recolor(const RbKey& node, bool black) override {
    events.push_back(std::string(black ? "black(" : "red(") + std::to_string(node.fd) + ")");
  }
};

// Follows the colours through the observer alone, as the GUI would, and counts any report that
// was not a real change.
struct Shadow : RbTree::Observer {
  std::map<RbKey, bool> black;  // absent = a new node, which starts red
  int rotations = 0;
  int false_reports = 0;
  void on_rotate(const RbKey&, bool) override { ++rotations; }
  void on_recolor(const RbKey& k, bool b) override {
    auto it = black.find(k);
    bool was_black = it != black.end() && it->second;
    if (was_black == b) ++false_reports;
    black[k] = b;
  }
};

RbTree build(const std::vector<int>& fds) {
  RbTree t;
  for (int fd : fds) REQUIRE(t.insert(K(fd)));
  t.check_invariants();
  return t;
}

// The shape written as text, e.g. "2B(1B,4r(3B,5B(.,6r)))"; "." is a NIL leaf.
std::string shape(const RbTree& t, RbTree::NodeId id) {
  if (id == RbTree::kNil) return ".";
  const auto& n = t.node(id);
  std::string s = std::to_string(n.key.fd) + (n.red ? "r" : "B");
  if (n.left == RbTree::kNil && n.right == RbTree::kNil) return s;
  return s + "(" + shape(t, n.left) + "," + shape(t, n.right) + ")";
}
std::string shape(const RbTree& t) { return shape(t, t.root()); }

}  // namespace

TEST_CASE("rbtree: random inserts and erases agree with std::set") {
  std::mt19937_64 rng(0xE9011u);
  constexpr int kRange = 2000;  // small enough that duplicates and misses are common
  constexpr int kOps = 120000;
  RbTree t;
  std::set<RbKey> ref;
  Shadow shadow;
  int dup_inserts = 0, missed_erases = 0, max_size = 0;
  bool was_emptied = false;

  for (int i = 0; i < kOps; ++i) {
    // Phases that grow and shrink the tree, so it is sometimes emptied and sometimes full.
    int phase = (i / 8000) % 3;
    int insert_percent = phase == 0 ? 75 : phase == 1 ? 50 : 20;
    int v = static_cast<int>(rng() % kRange);
    // Mix file and fd so the two-field ordering of ep_cmp_ffd is exercised.
    RbKey k{static_cast<std::uint32_t>(v % 7), v / 7};
    bool do_insert = static_cast<int>(rng() % 100) < insert_percent;

    int rot_before = shadow.rotations;
    if (do_insert) {
      bool expect = ref.insert(k).second;
      bool got = t.insert(k, &shadow);
      if (got != expect) FAIL("insert " << v << " returned " << got << " at op " << i);
      if (!expect) ++dup_inserts;
      if (shadow.rotations - rot_before > 2) FAIL("insert did more than 2 rotations");
    } else {
      bool expect = ref.erase(k) == 1;
      bool got = t.erase(k, &shadow);
      if (got != expect) FAIL("erase " << v << " returned " << got << " at op " << i);
      if (!expect) ++missed_erases;
      if (expect) shadow.black.erase(k);
      if (shadow.rotations - rot_before > 3) FAIL("erase did more than 3 rotations");
    }
    t.check_invariants();
    if (t.size() != ref.size()) FAIL("size " << t.size() << " != " << ref.size() << " at op " << i);
    if (t.empty()) was_emptied = true;
    max_size = std::max<int>(max_size, static_cast<int>(t.size()));

    if (i % 1000 == 999) {
      REQUIRE(t.in_order() == std::vector<RbKey>(ref.begin(), ref.end()));
      // The colours seen through the observer are the tree's colours.
      for (RbTree::NodeId id = t.first(); id != RbTree::kNil; id = t.next(id)) {
        const auto& n = t.node(id);
        auto it = shadow.black.find(n.key);
        bool seen_black = it != shadow.black.end() && it->second;
        if (seen_black != !n.red) FAIL("observer missed a colour change at op " << i);
      }
    }
  }
  REQUIRE(t.in_order() == std::vector<RbKey>(ref.begin(), ref.end()));
  REQUIRE(t.size() == ref.size());
  CHECK(shadow.false_reports == 0);
  CHECK(dup_inserts > 10000);
  CHECK(missed_erases > 10000);
  CHECK(was_emptied);
  CHECK(max_size > 1000);
}

TEST_CASE("rbtree: inserting 1, 2, 3 rotates left once about 1") {
  RbTree t;
  Recorder rec;
  REQUIRE(t.insert(K(1), &rec));
  CHECK(rec.events == std::vector<std::string>{"black(1)"});  // the new root ends black
  rec.events.clear();
  REQUIRE(t.insert(K(2), &rec));
  CHECK(rec.events.empty());
  REQUIRE(t.insert(K(3), &rec));
  // Insert case 3, mirrored: rotate about the grandparent, then swap colours.
  CHECK(rec.events == std::vector<std::string>{"rotL(1)", "black(2)", "red(1)"});
  t.check_invariants();

  const auto& root = t.node(t.root());
  CHECK(root.key == K(2));
  CHECK_FALSE(root.red);
  CHECK(t.node(root.left).key == K(1));
  CHECK(t.node(root.left).red);
  CHECK(t.node(root.right).key == K(3));
  CHECK(t.node(root.right).red);
  CHECK(t.black_height() == 1);
  CHECK(t.height() == 2);
}

TEST_CASE("rbtree: duplicate insert and missing erase change nothing") {
  RbTree t = build({5, 3, 8});
  RbTree before = t;
  Recorder rec;
  CHECK_FALSE(t.insert(K(3), &rec));  // EEXIST
  CHECK_FALSE(t.erase(K(4), &rec));   // ENOENT
  CHECK(rec.events.empty());
  CHECK(t.same_structure(before));
  CHECK(t.size() == 3);
  CHECK(t.find(K(4)) == RbTree::kNil);
  CHECK(t.contains(K(8)));
}

TEST_CASE("rbtree: erase cases traced by hand") {
  SECTION("case 3 then case 4: sibling's near child red") {
    // 10B(5B,15B(12r,.)); erase 5 leaves 10's left side one black short.
    RbTree t = build({10, 5, 15, 12});
    REQUIRE(shape(t) == "10B(5B,15B(12r,.))");
    Recorder rec;
    REQUIRE(t.erase(K(5), &rec));
    // Case 3: rotate right about 15, 12 black, 15 red. Case 4: rotate left about 10; 12 takes
    // 10's colour (black already), 10 stays black, the far child 15 turns black.
    CHECK(rec.events ==
          std::vector<std::string>{"rotR(15)", "black(12)", "red(15)", "rotL(10)", "black(15)"});
    CHECK(shape(t) == "12B(10B,15B)");
    t.check_invariants();
  }
  SECTION("case 1 then case 2 ending at a red parent") {
    // 1..6 ascending gives 2B(1B,4r(3B,5B(.,6r))).
    RbTree t = build({1, 2, 3, 4, 5, 6});
    REQUIRE(shape(t) == "2B(1B,4r(3B,5B(.,6r)))");
    Recorder rec;
    REQUIRE(t.erase(K(1), &rec));
    // Case 1: sibling 4 is red: rotate left about 2, 4 black, 2 red. New sibling 3 is black
    // with NIL children: case 2 paints 3 red and moves the deficit to 2, which is red, so 2
    // turns black and that ends it.
    CHECK(rec.events ==
          std::vector<std::string>{"rotL(2)", "black(4)", "red(2)", "red(3)", "black(2)"});
    CHECK(shape(t) == "4B(2B(.,3r),5B(.,6r))");
    t.check_invariants();
  }
  SECTION("two children: the successor is relinked, other ids stay") {
    RbTree t = build({1, 2, 3, 4, 5, 6});
    std::map<int, RbTree::NodeId> ids;
    for (int fd : {1, 2, 3, 5, 6}) ids[fd] = t.find(K(fd));
    Recorder rec;
    REQUIRE(t.erase(K(4), &rec));
    // Successor 5 (4's right child) takes 4's place and its red colour; the black lost at 5's
    // old place is paid back by 5's red child 6.
    CHECK(rec.events == std::vector<std::string>{"red(5)", "black(6)"});
    CHECK(shape(t) == "2B(1B,5r(3B,6B))");
    t.check_invariants();
    for (auto [fd, id] : ids) CHECK(t.find(K(fd)) == id);
  }
  SECTION("the last node") {
    RbTree t = build({7});
    Recorder rec;
    REQUIRE(t.erase(K(7), &rec));
    CHECK(rec.events.empty());
    CHECK(t.empty());
    CHECK(t.root() == RbTree::kNil);
    CHECK(t.height() == 0);
    CHECK(t.black_height() == 0);
    t.check_invariants();
  }
}

TEST_CASE("rbtree: height stays within 2*log2(n+1)") {
  auto within_bound = [](const RbTree& t) {
    double n = static_cast<double>(t.size());
    return t.height() <= 2.0 * std::log2(n + 1.0) + 1e-9;
  };
  SECTION("ascending keys, the worst case for a plain search tree") {
    RbTree t;
    for (int i = 0; i < 5000; ++i) {
      t.insert(K(i));
      if (i % 97 == 0 || i < 64) REQUIRE(within_bound(t));
    }
    REQUIRE(within_bound(t));
    t.check_invariants();
    for (int i = 0; i < 5000; i += 2) t.erase(K(i));
    REQUIRE(within_bound(t));
    t.check_invariants();
  }
  SECTION("random keys") {
    std::mt19937_64 rng(42);
    RbTree t;
    for (int i = 0; i < 5000; ++i) t.insert(K(static_cast<int>(rng() % 100000)));
    REQUIRE(within_bound(t));
    CHECK(t.height() >= static_cast<int>(std::ceil(std::log2(t.size() + 1.0))));
  }
}

TEST_CASE("rbtree: check_invariants detects broken trees") {
  // 1..7 ascending gives 2B(1B,4r(3B,6B(5r,7r))).
  RbTree good = build({1, 2, 3, 4, 5, 6, 7});
  REQUIRE(shape(good) == "2B(1B,4r(3B,6B(5r,7r)))");
  REQUIRE_NOTHROW(good.check_invariants());

  SECTION("red root") {
    RbTree t = good;
    t.mutable_node_for_test(t.root()).red = true;
    REQUIRE_THROWS_WITH(t.check_invariants(), Contains("property 2") && Contains("fd=2"));
  }
  SECTION("red node with a red child") {
    RbTree t = good;
    t.mutable_node_for_test(t.find(K(3))).red = true;  // under the red 4
    REQUIRE_THROWS_WITH(t.check_invariants(), Contains("property 4") && Contains("fd=4"));
  }
  SECTION("unequal black height") {
    RbTree t = good;
    t.mutable_node_for_test(t.find(K(1))).red = true;  // 2's left side now has no black
    REQUIRE_THROWS_WITH(t.check_invariants(), Contains("property 5") && Contains("fd=2"));
  }
  SECTION("bad search order") {
    RbTree t = good;
    t.mutable_node_for_test(t.find(K(5))).key = K(100);
    REQUIRE_THROWS_WITH(t.check_invariants(), Contains("search order") && Contains("fd=6"));
  }
  SECTION("bad parent link") {
    RbTree t = good;
    t.mutable_node_for_test(t.find(K(5))).parent = t.find(K(2));
    REQUIRE_THROWS_WITH(t.check_invariants(), Contains("parent link") && Contains("fd=5"));
  }
  SECTION("root with a parent") {
    RbTree t = good;
    t.mutable_node_for_test(t.root()).parent = t.find(K(4));
    REQUIRE_THROWS_WITH(t.check_invariants(), Contains("parent link"));
  }
  SECTION("a cycle") {
    RbTree t = good;
    t.mutable_node_for_test(t.find(K(7))).left = t.find(K(4));
    REQUIRE_THROWS_WITH(t.check_invariants(), Contains("tree shape"));
  }
}

TEST_CASE("rbtree: same_structure compares shape, keys and colours") {
  RbTree a = build({1, 2, 3, 4, 5, 6, 7});
  RbTree b = build({1, 2, 3, 4, 5, 6, 7});
  CHECK(a.same_structure(b));
  CHECK(b.same_structure(a));

  // Same keys, another order: another shape.
  RbTree c = build({4, 2, 6, 1, 3, 5, 7});
  CHECK(shape(c) == "4B(2B(1r,3r),6B(5r,7r))");
  CHECK(a.in_order() == c.in_order());
  CHECK_FALSE(a.same_structure(c));

  // Same shape and keys, one colour different.
  RbTree d = a;
  d.mutable_node_for_test(d.find(K(5))).red = false;
  CHECK_FALSE(a.same_structure(d));

  // Different keys, same shape.
  RbTree e = build({11, 12, 13, 14, 15, 16, 17});
  CHECK_FALSE(a.same_structure(e));

  RbTree empty1, empty2;
  CHECK(empty1.same_structure(empty2));
  CHECK_FALSE(empty1.same_structure(a));
}

TEST_CASE("rbtree: deterministic ids, snapshots by copy, slots reused") {
  auto run = [](RbTree& t) {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 3000; ++i) {
      int v = static_cast<int>(rng() % 300);
      if (rng() % 2) t.insert(K(v)); else t.erase(K(v));
    }
  };
  RbTree a, b;
  run(a);
  run(b);
  REQUIRE(a.same_structure(b));
  for (RbTree::NodeId id = a.first(); id != RbTree::kNil; id = a.next(id)) {
    CHECK(b.find(a.node(id).key) == id);
  }

  // A copy is an independent snapshot.
  RbTree snap = a;
  std::vector<RbKey> keys = a.in_order();
  a.erase(keys.front());
  a.insert(K(1000));
  CHECK(snap.in_order() == keys);
  snap.check_invariants();
  a.check_invariants();

  // An erased slot is reused by the next insert.
  RbTree t = build({1, 2, 3});
  RbTree::NodeId freed = t.find(K(1));
  t.erase(K(1));
  t.insert(K(9));
  CHECK(t.find(K(9)) == freed);

  t.clear();
  CHECK(t.empty());
  CHECK(t.in_order().empty());
  t.check_invariants();
  REQUIRE(t.insert(K(1)));
  CHECK(t.find(K(1)) == 0);
}
