"""The encrypted folder tree: the manifest store with freshness (`store`), pure edits of a
folder's manifest body (`edits`) and path handling (`paths`)."""

from blindvault.client.tree.store import Edit, Folder, Space, Tree, now_ms

__all__ = ["Edit", "Folder", "Space", "Tree", "now_ms"]
