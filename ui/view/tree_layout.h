// Lays the epoll red-black tree (ep->rbr) out as a tree: a node's x is its rank in key order,
// its y its depth, so the picture reads left to right in fd order like the tree's in-order
// walk. Deep trees are cut at max_depth and what lies below is counted, so 1,000 watched fds
// still draw as a readable top of the tree plus "+N deeper".
#pragma once

#include <cstdint>
#include <vector>

#include "sim/rbtree.h"

namespace eps::view {

// A tree's shape, copied out of an RbTree so that the view can also draw states the RbTree
// never rests in: the new red leaf before the fix-up, and the shape after each rotation.
struct TreeShape {
  struct N {
    RbKey key{};
    int left = -1, right = -1, parent = -1;
    bool red = true;
  };
  std::vector<N> nodes;
  int root = -1;
  std::size_t size() const { return nodes.size(); }
};
TreeShape shape_of(const RbTree& t);
// `t` with k added as a red leaf where a plain binary-search-tree insert puts it (no fix-up):
// the first picture of ep_insert.
TreeShape with_leaf(const TreeShape& t, const RbKey& k);
// The pictures of one ep_insert of k into `before`: [0] the red leaf linked in, then one per
// rotation or recolouring, in the order the trace reports them (RbRotate / RbRecolor
// events follow the EpitemInsert event one for one), the last being the final tree.
std::vector<TreeShape> insert_story(const RbTree& before, const RbKey& k);

struct TreeNodePos {
  std::int32_t fd = -1;           // the node's key fd (its label)
  bool red = false;
  int depth = 0;                  // root = 0
  float x = 0, y = 0;             // x in [0, 1] (rank among drawn nodes), y = depth
  int parent = -1;                // index in TreeLayout::nodes, -1 for the root
  int hidden_below = 0;           // nodes under it that are deeper than max_depth
};

struct TreeLayout {
  std::vector<TreeNodePos> nodes; // drawn nodes, in key order
  int depth = 0;                  // levels drawn
  int hidden = 0;                 // nodes not drawn (deeper than max_depth)
  // The drawn node with this fd, or nullptr.
  const TreeNodePos* find_fd(std::int32_t fd) const;
};

TreeLayout layout_tree(const TreeShape& t, int max_depth = 64);
TreeLayout layout_tree(const RbTree& t, int max_depth = 64);

// Positions part way from `from` to `to` (t in [0, 1]), matched by fd: a node only in `to`
// grows in at its target place, one only in `from` is left out. Colours come from `to`.
TreeLayout lerp_layout(const TreeLayout& from, const TreeLayout& to, float t);

}  // namespace eps::view
