"""sanpi portal (工作台): the web pages where park operators post updates and officials act on alerts."""
