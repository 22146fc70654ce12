-- queens: counts all solutions of the N-queens puzzle for several board sizes by backtracking
-- over boolean column/diagonal tables, and finds the first solution of a larger board; stands
-- for search and constraint programs (recursion, small array updates, early exits).

local function count_solutions(n)
  local cols, diag1, diag2 = {}, {}, {}
  for i = 1, 2 * n do cols[i], diag1[i], diag2[i] = false, false, false end
  local count = 0
  local function place(row)
    if row > n then
      count = count + 1
      return
    end
    for c = 1, n do
      local d1, d2 = row + c, row - c + n
      if not cols[c] and not diag1[d1] and not diag2[d2] then
        cols[c], diag1[d1], diag2[d2] = true, true, true
        place(row + 1)
        cols[c], diag1[d1], diag2[d2] = false, false, false
      end
    end
  end
  place(1)
  return count
end

-- the first solution in lexicographic order, as a list of columns
local function first_solution(n)
  local queen = {}
  local function safe(row, c)
    for r = 1, row - 1 do
      local q = queen[r]
      if q == c or q - c == row - r or c - q == row - r then return false end
    end
    return true
  end
  local function place(row)
    if row > n then return true end
    for c = 1, n do
      if safe(row, c) then
        queen[row] = c
        if place(row + 1) then return true end
      end
    end
    queen[row] = nil
    return false
  end
  place(1)
  return queen
end

local total = 0
for n = 4, 11 do
  local c = count_solutions(n)
  total = total + c
  io.write(c, n < 11 and " " or "\n")
end
local sol = first_solution(25)
print("queens", total, table.concat(sol, ","))
