"""我的项目 and 项目详情: the projects a user may act on, and everything known about one."""
