"""预警 and 红黄榜: the open alerts officials work through and acknowledge, and the park ranking."""
