-- "cannot open <file>: <reason>".
dofile("/nonexistent/file.lua")
