/**
 * The wall screen's grid: how many columns and rows of tiles fill a screen, so that every tile is as large as
 * it can be while keeping a shape its text fits (a name line, a state word and a score line).
 */

/** Width / height the wall tile is drawn for: its three lines of large text fit it best. */
export const WALL_TILE_ASPECT = 1.6;

/**
 * Columns and rows for `n` tiles on a `width` x `height` screen: the grid whose cells are nearest
 * `aspect` in shape (compared as log-ratios, so 2x too wide weighs as 2x too tall), with a small cost for
 * empty cells so a full grid wins a tie. At least one cell.
 */
export function wallGrid(
  n: number,
  width: number,
  height: number,
  aspect = WALL_TILE_ASPECT,
): { columns: number; rows: number } {
  const count = Math.max(1, Math.floor(n));
  let best = { columns: 1, rows: count, cost: Infinity };
  for (let columns = 1; columns <= count; columns++) {
    const rows = Math.ceil(count / columns);
    const shape = width / columns / (height / rows);
    const cost = Math.abs(Math.log(shape / aspect)) + (0.5 * (columns * rows - count)) / (columns * rows);
    if (cost < best.cost) best = { columns, rows, cost };
  }
  return { columns: best.columns, rows: best.rows };
}
