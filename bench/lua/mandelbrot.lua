-- mandelbrot: renders the Mandelbrot set on a 640x640 grid as packed bits (8 pixels a byte,
-- like a PBM bitmap) plus an escape-time histogram; pure float arithmetic in tight loops with
-- integer output only; stands for numeric kernels (image rendering, simulation inner loops).

local W, H, MAX_ITER = 640, 640, 50

local bits_set, checksum = 0, 0
local hist = {}
for i = 0, MAX_ITER do hist[i] = 0 end

for y = 0, H - 1 do
  local ci = 2.0 * y / H - 1.0
  local byte, nbits = 0, 0
  for x = 0, W - 1 do
    local cr = 2.0 * x / W - 1.5
    local zr, zi, zr2, zi2 = 0.0, 0.0, 0.0, 0.0
    local iter = 0
    while iter < MAX_ITER and zr2 + zi2 <= 4.0 do
      zi = 2.0 * zr * zi + ci
      zr = zr2 - zi2 + cr
      zr2, zi2 = zr * zr, zi * zi
      iter = iter + 1
    end
    hist[iter] = hist[iter] + 1
    byte = byte << 1
    if zr2 + zi2 <= 4.0 then
      byte = byte | 1
      bits_set = bits_set + 1
    end
    nbits = nbits + 1
    if nbits == 8 then
      checksum = (checksum * 31 + byte) % 1000000007
      byte, nbits = 0, 0
    end
  end
end

local hsum = 0
for i = 0, MAX_ITER do hsum = (hsum * 7 + hist[i]) % 1000000007 end
print("mandelbrot", bits_set, checksum, hist[MAX_ITER], hsum)
