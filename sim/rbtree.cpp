// The red-black tree behind epoll's `rbr` (see rbtree.h). Mirrors lib/rbtree.c: __rb_insert,
// __rb_erase_augmented + ____rb_erase_color, rb_first, rb_next.
//
// A red-black tree is a binary search tree whose nodes are coloured so that no path from the
// root to a leaf is more than twice as long as any other. The rules:
//
//   1. Every node is red or black.
//   2. The root is black.
//   3. Every leaf (NIL, the missing child kNil) is black.
//   4. A red node has two black children: no red node has a red parent.
//   5. Every path from a node down to a NIL leaf below it passes the same number of black
//      nodes (the node's black height).
//
// Why it stays short: by 5, a path of only black nodes is the shortest; by 4, the longest can
// at most put a red node between each pair of blacks. So height <= 2 * log2(n + 1), and
// ep_find, ep_insert and ep_remove cost O(log n) however many fds one epoll instance watches.
//
// Insert adds a red node (keeps 5) and repairs 4 walking up; erase removes a node, and if a
// black one went missing, repairs 5 walking up. Each repair is a handful of local cases, each
// O(1), at most O(log n) steps up, and at most 2 (insert) or 3 (erase) rotations in all.
//
// In the pictures: UPPER case = black, lower case = red, (x) = either colour; A, B, ... are
// subtrees. Each case is drawn for one side; the code also runs its mirror image.

#include "sim/rbtree.h"

#include <cassert>
#include <stdexcept>
#include <string>
#include <utility>

namespace eps {
namespace {

std::string key_str(const RbKey& k) {
  return "{file=" + std::to_string(k.file) + ", fd=" + std::to_string(k.fd) + "}";
}

[[noreturn]] void broken(const std::string& rule, const RbKey& at, const std::string& detail) {
  throw std::logic_error("rbtree: " + rule + " broken at node " + key_str(at) +
                         (detail.empty() ? "" : ": " + detail));
}

}  // namespace

// --- storage -----------------------------------------------------------------------------------

RbTree::NodeId RbTree::alloc(const RbKey& k, NodeId parent) {
  NodeId id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = static_cast<NodeId>(nodes_.size());
    nodes_.emplace_back();
  }
  nodes_[id] = Node{k, parent, kNil, kNil, true};
  return id;
}

void RbTree::release(NodeId id) {
  nodes_[id] = Node{};
  nodes_[id].parent = id;  // RB_CLEAR_NODE: "not in a tree"
  free_.push_back(id);
}

const RbTree::Node& RbTree::node(NodeId id) const {
  assert(id >= 0 && static_cast<std::size_t>(id) < nodes_.size() && nodes_[id].parent != id);
  return nodes_[id];
}

RbTree::Node& RbTree::mutable_node_for_test(NodeId id) {
  assert(id >= 0 && static_cast<std::size_t>(id) < nodes_.size());
  return nodes_[id];
}

void RbTree::clear() {
  nodes_.clear();
  free_.clear();
  root_ = kNil;
  size_ = 0;
}

// --- small steps -------------------------------------------------------------------------------

void RbTree::set_color(NodeId id, bool red, Observer* obs) {
  if (nodes_[id].red == red) return;  // only real changes are reported
  nodes_[id].red = red;
  if (obs) obs->on_recolor(nodes_[id].key, !red);
}

// Make `parent` point at new_child where it pointed at old_child (the root if parent is kNil).
void RbTree::replace_child(NodeId parent, NodeId old_child, NodeId new_child) {
  if (parent == kNil) {
    root_ = new_child;
  } else if (nodes_[parent].left == old_child) {
    nodes_[parent].left = new_child;
  } else {
    nodes_[parent].right = new_child;
  }
}

/*
 * Left rotation about x: x's right child y moves up, x moves down to y's left. The order of
 * A x B y C is kept, so the tree stays a search tree; only the shape changes.
 *
 *       x               y
 *      / \             / \
 *     A   y    -->    x   C
 *        / \         / \
 *       B   C       A   B
 */
void RbTree::rotate_left(NodeId x, Observer* obs) {
  NodeId y = nodes_[x].right;
  NodeId b = nodes_[y].left;
  nodes_[x].right = b;
  if (b != kNil) nodes_[b].parent = x;
  nodes_[y].parent = nodes_[x].parent;
  replace_child(nodes_[x].parent, x, y);
  nodes_[y].left = x;
  nodes_[x].parent = y;
  if (obs) obs->on_rotate(nodes_[x].key, false);
}

/*
 * Right rotation about x: the mirror image.
 *
 *         x           y
 *        / \         / \
 *       y   C  -->  A   x
 *      / \             / \
 *     A   B           B   C
 */
void RbTree::rotate_right(NodeId x, Observer* obs) {
  NodeId y = nodes_[x].left;
  NodeId b = nodes_[y].right;
  nodes_[x].left = b;
  if (b != kNil) nodes_[b].parent = x;
  nodes_[y].parent = nodes_[x].parent;
  replace_child(nodes_[x].parent, x, y);
  nodes_[y].right = x;
  nodes_[x].parent = y;
  if (obs) obs->on_rotate(nodes_[x].key, true);
}

// --- lookup (ep_find) --------------------------------------------------------------------------

RbTree::NodeId RbTree::find(const RbKey& k) const {
  NodeId cur = root_;
  while (cur != kNil) {
    const Node& n = nodes_[cur];
    if (k < n.key) {
      cur = n.left;
    } else if (n.key < k) {
      cur = n.right;
    } else {
      return cur;
    }
  }
  return kNil;
}

RbTree::NodeId RbTree::first() const {
  NodeId cur = root_;
  if (cur == kNil) return kNil;
  while (nodes_[cur].left != kNil) cur = nodes_[cur].left;
  return cur;
}

// rb_next: the leftmost node of the right subtree if there is one; else climb until we come
// up from a left child, and that parent is next.
RbTree::NodeId RbTree::next(NodeId id) const {
  if (nodes_[id].right != kNil) {
    id = nodes_[id].right;
    while (nodes_[id].left != kNil) id = nodes_[id].left;
    return id;
  }
  NodeId p = nodes_[id].parent;
  while (p != kNil && id == nodes_[p].right) {
    id = p;
    p = nodes_[p].parent;
  }
  return p;
}

std::vector<RbKey> RbTree::in_order() const {
  std::vector<RbKey> keys;
  keys.reserve(size_);
  for (NodeId id = first(); id != kNil; id = next(id)) keys.push_back(nodes_[id].key);
  return keys;
}

int RbTree::black_height() const {
  int bh = 0;
  for (NodeId cur = root_; cur != kNil; cur = nodes_[cur].left) {
    if (!nodes_[cur].red) ++bh;
  }
  return bh;  // any path would do, if property 5 holds
}

int RbTree::height() const {
  int best = 0;
  // Depth of every node with a missing child, found by walking in order.
  for (NodeId id = first(); id != kNil; id = next(id)) {
    if (nodes_[id].left != kNil && nodes_[id].right != kNil) continue;
    int depth = 0;
    for (NodeId up = id; up != kNil; up = nodes_[up].parent) ++depth;
    if (depth > best) best = depth;
  }
  return best;
}

// --- insert (ep_insert -> rb_insert_color) -----------------------------------------------------

bool RbTree::insert(const RbKey& k, Observer* obs) {
  // Descend as ep_find does, remembering the last node and the side we fell off.
  NodeId parent = kNil;
  NodeId cur = root_;
  bool go_left = false;
  while (cur != kNil) {
    parent = cur;
    if (k < nodes_[cur].key) {
      go_left = true;
      cur = nodes_[cur].left;
    } else if (nodes_[cur].key < k) {
      go_left = false;
      cur = nodes_[cur].right;
    } else {
      return false;  // already watched: EEXIST
    }
  }
  NodeId n = alloc(k, parent);
  if (parent == kNil) {
    root_ = n;
  } else if (go_left) {
    nodes_[parent].left = n;
  } else {
    nodes_[parent].right = n;
  }
  ++size_;
  insert_fixup(n, obs);
  return true;
}

// The new node is red, so no path gained a black node: property 5 still holds. Only 2 (a red
// root) or 4 (a red node under a red parent) can be broken, and only at n.
//
// Loop invariant: n is red; property 5 holds everywhere; property 4 holds everywhere except
// perhaps between n and its parent.
void RbTree::insert_fixup(NodeId n, Observer* obs) {
  while (true) {
    NodeId p = nodes_[n].parent;
    if (p == kNil) {
      // n is the root. Painting it black adds one black to every path: 5 still holds.
      set_color(n, false, obs);
      return;
    }
    if (!nodes_[p].red) return;  // black parent: 4 holds, done.

    // p is red, so it is not the root (2): the grandparent g exists, and it is black (4 held
    // before n came).
    NodeId g = nodes_[p].parent;
    bool p_is_left = nodes_[g].left == p;
    NodeId u = p_is_left ? nodes_[g].right : nodes_[g].left;  // the uncle

    if (is_red(u)) {
      /*
       * Case 1: the uncle is red. Recolour: p and u black, g red. Every path through g still
       * passes one black (g's before, p's or u's now). But g may now be red under a red
       * parent: carry on from g, two levels up.
       *
       *         G               g
       *        / \             / \
       *       p   u    -->    P   U
       *      /               /
       *     n               n
       *
       * (n may be either child of p: the recolouring is the same.)
       */
      set_color(p, false, obs);
      set_color(u, false, obs);
      // g is the root: keep it black (2) and stop; every path gained one black. (The kernel
      // paints g red, then the root black again; we skip that, so no undone change is traced.)
      if (nodes_[g].parent == kNil) return;
      set_color(g, true, obs);
      n = g;
      continue;
    }

    if (p_is_left) {
      if (n == nodes_[p].right) {
        /*
         * Case 2: the uncle is black and n is the inner grandchild (p's right, p on g's left).
         * Rotate left about p, so that the red pair lines up on the outside; then it is
         * case 3 with the roles of n and p swapped. No colour changes, so 5 holds.
         *
         *        G                 G
         *       / \               / \
         *      p   U    -->      n   U
         *     / \               / \
         *    A   n             p   C
         *       / \           / \
         *      B   C         A   B
         */
        rotate_left(p, obs);
        std::swap(n, p);
      }
      /*
       * Case 3: the uncle is black and n is the outer grandchild. Rotate right about g, then
       * p black and g red: the subtree's top is black again, every path passes one black as
       * before, and no red has a red parent. Done.
       *
       *          G               P
       *         / \             / \
       *        p   U    -->    n   g
       *       / \                 / \
       *      n   S               S   U
       */
      rotate_right(g, obs);
    } else {
      if (n == nodes_[p].left) {
        // Case 2, mirrored: rotate right about p.
        rotate_right(p, obs);
        std::swap(n, p);
      }
      // Case 3, mirrored: rotate left about g.
      rotate_left(g, obs);
    }
    set_color(p, false, obs);
    set_color(g, true, obs);
    return;
  }
}

// --- erase (ep_remove -> rb_erase) -------------------------------------------------------------

bool RbTree::erase(const RbKey& k, Observer* obs) {
  NodeId z = find(k);
  if (z == kNil) return false;  // not watched: ENOENT

  // Step 1: take z out of the search tree. Afterwards `x` (maybe NIL) sits where a node was
  // unlinked, `xp` is its parent, and `lost_black` says whether that position lost a black
  // node, i.e. whether every path through x now passes one black fewer (property 5).
  NodeId x;
  NodeId xp;
  bool lost_black;
  Node zn = nodes_[z];
  if (zn.left == kNil || zn.right == kNil) {
    /*
     * z has at most one child: the child (or NIL) takes z's place.
     *
     *      (q)            (q)
     *       |              |
     *      (z)     -->     x
     *      /
     *     x
     */
    x = zn.left != kNil ? zn.left : zn.right;
    xp = zn.parent;
    replace_child(xp, z, x);
    if (x != kNil) nodes_[x].parent = xp;
    lost_black = !zn.red;
  } else {
    /*
     * z has two children: its successor y (leftmost of z's right subtree, so y has no left
     * child) is relinked into z's place and takes z's colour, so nothing changes at z's
     * position. What is lost is y's colour at y's old position, now held by y's right child x.
     * The nodes are relinked, not their keys copied, so every other key keeps its NodeId.
     *
     * y is z's right child:            y is deeper:
     *
     *      (z)           (y)               (z)              (y)
     *      / \           / \               / \              / \
     *     A  (y)   -->  A   x             A   B     -->    A   B
     *          \                             /                /
     *           x                          ...              ...
     *                                      /                /
     *                                    (y)               x
     *                                      \
     *                                       x
     */
    NodeId y = zn.right;
    while (nodes_[y].left != kNil) y = nodes_[y].left;
    x = nodes_[y].right;
    lost_black = !nodes_[y].red;
    if (y == zn.right) {
      xp = y;  // y keeps x as its right child
    } else {
      xp = nodes_[y].parent;
      nodes_[xp].left = x;  // y was xp's left child
      if (x != kNil) nodes_[x].parent = xp;
      nodes_[y].right = zn.right;
      nodes_[zn.right].parent = y;
    }
    nodes_[y].left = zn.left;
    nodes_[zn.left].parent = y;
    nodes_[y].parent = zn.parent;
    replace_child(zn.parent, z, y);
    set_color(y, zn.red, obs);
  }
  release(z);
  --size_;

  // Step 2: give back the lost black.
  if (!lost_black) return true;  // a red node went: no path changed its count of blacks.
  if (is_red(x)) {
    // The black node unlinked (z, or its successor y) had one child; by 5 that child is a
    // lone red leaf. Painting it black pays the black back.
    set_color(x, false, obs);
    return true;
  }
  erase_fixup(x, xp, obs);
  return true;
}

// x (black or NIL) carries an "extra black": every path from xp down through x passes one
// black node fewer than the paths from xp down its other side. Move the deficit up the tree
// until a red node can absorb it, or a rotation can fill it, or it reaches the root (where it
// takes one black off every path at once, which is fine).
//
// Loop invariant: x is black or NIL and is not the root; xp is x's parent; x's sibling s
// exists (the other side has at least one black more than x's side, so it is not NIL);
// properties 2 and 4 hold everywhere, and 5 holds everywhere except at xp, where x's side is
// exactly one black short.
void RbTree::erase_fixup(NodeId x, NodeId xp, Observer* obs) {
  while (xp != kNil && !is_red(x)) {
    if (x == nodes_[xp].left) {
      NodeId s = nodes_[xp].right;
      if (nodes_[s].red) {
        /*
         * Case 1: the sibling is red (so p and s's children are black). Rotate left about p,
         * s black, p red: N's new sibling Sl is black, and the black counts are unchanged.
         * Go on to case 2, 3 or 4 (case 2 then ends at once, at the red p).
         *
         *       P                S
         *      / \              / \
         *     N   s     -->    p   Sr
         *        / \          / \
         *       Sl  Sr       N   Sl
         */
        rotate_left(xp, obs);
        set_color(s, false, obs);
        set_color(xp, true, obs);
        s = nodes_[xp].right;
      }
      NodeId sl = nodes_[s].left;
      NodeId sr = nodes_[s].right;
      if (!is_red(sl) && !is_red(sr)) {
        /*
         * Case 2: the sibling and both its children are black. Paint s red: now s's side is
         * short too, so the whole of p is one black short. Move the extra black up to p; if p
         * is red the loop ends and p is painted black below, which pays it back.
         *
         *      (p)             (p)   <- carries the extra black now
         *      / \             / \
         *     N   S     -->   N   s
         *        / \             / \
         *       Sl  Sr          Sl  Sr
         */
        set_color(s, true, obs);
        x = xp;
        xp = nodes_[x].parent;
        continue;
      }
      if (!is_red(sr)) {
        /*
         * Case 3: the sibling is black, its near child red, its far child black. Rotate right
         * about s, sl black, s red: now the far child of N's sibling is red. Go on to case 4.
         *
         *      (p)              (p)
         *      / \              / \
         *     N   S      -->   N   Sl
         *        / \              /  \
         *       sl  Sr           A    s
         *      /  \                  / \
         *     A    B                B   Sr
         */
        rotate_right(s, obs);
        set_color(sl, false, obs);
        set_color(s, true, obs);
        s = nodes_[xp].right;
        sr = nodes_[s].right;
      }
      /*
       * Case 4: the sibling is black and its far child red. Rotate left about p; s takes p's
       * colour, p and sr become black. N's side gains the black p, s's old side keeps one
       * through sr: the deficit is filled. Done.
       *
       *      (p)              (s)
       *      / \              / \
       *     N   S     -->    P   Sr
       *        / \          / \
       *      (sl) sr       N  (sl)
       */
      rotate_left(xp, obs);
      set_color(s, nodes_[xp].red, obs);
      set_color(xp, false, obs);
      set_color(sr, false, obs);
      return;
    } else {
      // The same four cases, mirrored (N is p's right child).
      NodeId s = nodes_[xp].left;
      if (nodes_[s].red) {  // case 1
        rotate_right(xp, obs);
        set_color(s, false, obs);
        set_color(xp, true, obs);
        s = nodes_[xp].left;
      }
      NodeId sl = nodes_[s].left;
      NodeId sr = nodes_[s].right;
      if (!is_red(sl) && !is_red(sr)) {  // case 2
        set_color(s, true, obs);
        x = xp;
        xp = nodes_[x].parent;
        continue;
      }
      if (!is_red(sl)) {  // case 3
        rotate_left(s, obs);
        set_color(sr, false, obs);
        set_color(s, true, obs);
        s = nodes_[xp].left;
        sl = nodes_[s].left;
      }
      rotate_right(xp, obs);  // case 4
      set_color(s, nodes_[xp].red, obs);
      set_color(xp, false, obs);
      set_color(sl, false, obs);
      return;
    }
  }
  // x is red (case 2 reached a red p) or x is the root: painting it black ends the deficit.
  if (x != kNil) set_color(x, false, obs);
}

// --- checking ----------------------------------------------------------------------------------

void RbTree::check_invariants() const {
  if (root_ == kNil) {
    if (size_ != 0) {
      throw std::logic_error("rbtree: size is " + std::to_string(size_) + " but the tree is empty");
    }
    return;
  }
  const auto n_slots = static_cast<NodeId>(nodes_.size());
  if (root_ < 0 || root_ >= n_slots) throw std::logic_error("rbtree: root id out of range");
  if (nodes_[root_].parent != kNil) {
    broken("parent link (the root has no parent)", nodes_[root_].key, "");
  }
  if (nodes_[root_].red) broken("property 2 (the root is black)", nodes_[root_].key, "root is red");

  // Walk down without recursion, checking each link once. `order` lists parents before their
  // children, so walking it backwards visits children first (for black heights).
  std::vector<char> seen(nodes_.size(), 0);
  std::vector<NodeId> order;
  std::vector<NodeId> stack{root_};
  seen[root_] = 1;
  while (!stack.empty()) {
    NodeId id = stack.back();
    stack.pop_back();
    order.push_back(id);
    const Node& n = nodes_[id];
    for (NodeId c : {n.left, n.right}) {
      if (c == kNil) continue;
      if (c < 0 || c >= n_slots) broken("child link", n.key, "child id out of range");
      if (nodes_[c].parent == c) broken("child link", n.key, "child is an erased slot");
      if (seen[c]) broken("tree shape (no cycles, no shared nodes)", n.key, "child reached twice");
      seen[c] = 1;
      if (nodes_[c].parent != id) {
        broken("parent link", nodes_[c].key, "its parent is not " + key_str(n.key));
      }
      if (n.red && nodes_[c].red) {
        broken("property 4 (a red node has black children)", n.key,
               "red child " + key_str(nodes_[c].key));
      }
      stack.push_back(c);
    }
  }
  if (order.size() != size_) {
    throw std::logic_error("rbtree: size is " + std::to_string(size_) + " but " +
                           std::to_string(order.size()) + " nodes are reachable");
  }

  // Property 5, children before parents. bh[id] = blacks from id down to NIL, id included.
  std::vector<int> bh(nodes_.size(), 0);
  auto bh_of = [&](NodeId c) { return c == kNil ? 0 : bh[c]; };
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Node& n = nodes_[*it];
    int l = bh_of(n.left), r = bh_of(n.right);
    if (l != r) {
      broken("property 5 (equal black height)", n.key,
             "left side has " + std::to_string(l) + " black, right side " + std::to_string(r));
    }
    bh[*it] = l + (n.red ? 0 : 1);
  }

  // Search order: the in-order walk must be strictly increasing (which also rules out
  // duplicates). Uses the parent links, checked above.
  NodeId prev = kNil;
  for (NodeId id = first(); id != kNil; id = next(id)) {
    if (prev != kNil && !(nodes_[prev].key < nodes_[id].key)) {
      broken("search order", nodes_[id].key, "comes after " + key_str(nodes_[prev].key));
    }
    prev = id;
  }
}

bool RbTree::same_structure(const RbTree& other) const {
  if (size_ != other.size_) return false;
  std::vector<std::pair<NodeId, NodeId>> stack{{root_, other.root_}};
  while (!stack.empty()) {
    auto [a, b] = stack.back();
    stack.pop_back();
    if ((a == kNil) != (b == kNil)) return false;
    if (a == kNil) continue;
    const Node& na = nodes_[a];
    const Node& nb = other.nodes_[b];
    if (na.key != nb.key || na.red != nb.red) return false;
    stack.emplace_back(na.left, nb.left);
    stack.emplace_back(na.right, nb.right);
  }
  return true;
}

}  // namespace eps
