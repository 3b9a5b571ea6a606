"""The service catalogue: 基本目录 entries, each region's 实施清单 items in versions, 一件事 bundles."""
