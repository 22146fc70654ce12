-- As tb_sort, through string.gsub.
string.gsub("abc", "%w", function(c) error("repl " .. c) end)
