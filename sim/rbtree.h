// A red-black tree of epoll keys: the model of `ep->rbr`, the tree in which fs/eventpoll.c keeps
// one `epitem` per watched (file, fd). ep_find descends it, ep_insert adds to it, ep_remove takes
// from it. It mirrors lib/rbtree.c and include/linux/rbtree.h, written anew for teaching: the
// rules and a picture of every rebalancing case are in rbtree.cpp.
//
// Nodes live in a vector and point at each other by index, so copying a tree is a plain vector
// copy (the replay engine snapshots it) and the same operations always give the same node ids
// and the same shape. Erased slots go on a free list and are reused last-freed-first.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace eps {

// epoll's key: the watched `struct file *` and the fd it was added under. Ordered first by file,
// then by fd, as ep_cmp_ffd orders them.
struct RbKey {
  std::uint32_t file;  // the model's id of the struct file
  std::int32_t fd;     // the fd number given to epoll_ctl
  auto operator<=>(const RbKey&) const = default;
};

class RbTree {
 public:
  using NodeId = std::int32_t;
  static constexpr NodeId kNil = -1;  // the NIL leaf; counted black (property 3)

  struct Node {
    RbKey key{};
    NodeId parent = kNil, left = kNil, right = kNil;  // an erased slot has parent == its own id,
                                                      // like RB_CLEAR_NODE in the kernel
    bool red = true;                                  // new nodes start red
  };

  // Told about every rotation and colour change, so the simulator can trace them (and the GUI
  // animate them). Rotations are reported before the recolourings that complete their case.
  // Relinking the successor into an erased node's place (erase, two children) is not a
  // rotation and is not reported.
  struct Observer {
    virtual ~Observer() = default;
    // pivot = the node rotated about (the one that moves down); right = a right rotation.
    virtual void on_rotate(const RbKey& pivot, bool right) = 0;
    // Called only when the node's colour really changes, and for a new node that ends black.
    virtual void on_recolor(const RbKey& node, bool black) = 0;
  };

  // ep_insert: false, and no change, if the key is present (epoll_ctl says EEXIST).
  bool insert(const RbKey& k, Observer* obs = nullptr);
  // ep_remove: false if the key is absent (epoll_ctl says ENOENT). Other keys keep their ids.
  bool erase(const RbKey& k, Observer* obs = nullptr);
  // ep_find: the node holding k, or kNil.
  NodeId find(const RbKey& k) const;
  bool contains(const RbKey& k) const { return find(k) != kNil; }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  NodeId root() const { return root_; }
  const Node& node(NodeId id) const;

  // rb_first / rb_next: walk the keys in order without recursion. kNil at the end.
  NodeId first() const;
  NodeId next(NodeId id) const;
  std::vector<RbKey> in_order() const;

  // Black nodes on any path from the root down to a NIL leaf (the NIL not counted); 0 if empty.
  int black_height() const;
  // Nodes on the longest path from the root down to a leaf; 0 if empty.
  int height() const;

  // Checks the search order, the parent links, the size and the five properties. Throws
  // std::logic_error naming the broken rule and the node's key.
  void check_invariants() const;

  void clear();

  // Two trees are equal when they have the same shape, keys and colours (node ids may differ).
  bool same_structure(const RbTree& other) const;

  // Tests only: lets a test break the tree on purpose to see check_invariants catch it.
  Node& mutable_node_for_test(NodeId id);

 private:
  NodeId alloc(const RbKey& k, NodeId parent);
  void release(NodeId id);
  bool is_red(NodeId id) const { return id != kNil && nodes_[id].red; }  // NIL is black
  void set_color(NodeId id, bool red, Observer* obs);
  void replace_child(NodeId parent, NodeId old_child, NodeId new_child);
  void rotate_left(NodeId x, Observer* obs);
  void rotate_right(NodeId x, Observer* obs);
  void insert_fixup(NodeId n, Observer* obs);
  void erase_fixup(NodeId x, NodeId parent, Observer* obs);

  std::vector<Node> nodes_;    // every slot ever used; erased ones are on free_
  std::vector<NodeId> free_;   // erased slots, reused from the back
  NodeId root_ = kNil;
  std::size_t size_ = 0;       // live nodes
};

}  // namespace eps
