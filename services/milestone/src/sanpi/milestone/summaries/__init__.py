"""Project summaries: a page of projects with their colour, last report and next deadline (the
portal's 我的项目 list), filtered by park, stage, period, chain and colour."""
