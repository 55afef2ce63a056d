// geometry.js: the overview's edges as lists of points: curves between columns, arcs between
// exchanges, lanes with rounded corners under the diagram; and distances along them, so a
// message token can move along an edge at an even speed. Pure: numbers in, numbers out.

function cubic(p0, p1, p2, p3, steps = 28) {
  const points = [];
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    const u = 1 - t;
    points.push([
      u * u * u * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t * t * t * p3[0],
      u * u * u * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t * t * t * p3[1],
    ]);
  }
  return points;
}

/** From the right side of node `a` to the left side of node `b`, an S-curve. */
export function curvePoints(a, b) {
  const start = [a.x + a.w, a.y + a.h / 2];
  const end = [b.x, b.y + b.h / 2];
  const dx = (end[0] - start[0]) / 2;
  return cubic(start, [start[0] + dx, start[1]], [end[0] - dx, end[1]], end);
}

/** From the right side of one exchange, bulging right, into the right side of another. */
export function arcPoints(a, b) {
  const start = [a.x + a.w, a.y + a.h / 2 - 6];
  const end = [b.x + b.w, b.y + b.h / 2 + 6];
  const bulge = 46 + Math.abs(end[1] - start[1]) * 0.22;
  return cubic(start, [start[0] + bulge, start[1]], [end[0] + bulge, end[1]], end);
}

const towards = (from, to, d) => {
  const length = Math.hypot(to[0] - from[0], to[1] - from[1]) || 1;
  return [from[0] + ((to[0] - from[0]) * d) / length, from[1] + ((to[1] - from[1]) * d) / length];
};

/** Straight runs with rounded corners: out of `a` on the right, down to the lane under the
 * diagram, along it, up on the left of `b`, and into `b`. */
export function lanePoints(a, b, laneY, inset) {
  const exitX = a.x + a.w + 10 + inset / 2;
  const corners = [
    [a.x + a.w, a.y + a.h - 12],
    [exitX, a.y + a.h - 12],
    [exitX, laneY],
    [b.x - inset, laneY],
    [b.x - inset, b.y + b.h / 2 + 6],
    [b.x, b.y + b.h / 2 + 6],
  ];
  const points = [corners[0]];
  for (let i = 1; i < corners.length - 1; i++) {
    const [prev, corner, next] = [corners[i - 1], corners[i], corners[i + 1]];
    const r = Math.min(12, Math.hypot(corner[0] - prev[0], corner[1] - prev[1]) / 2, Math.hypot(next[0] - corner[0], next[1] - corner[1]) / 2);
    const enter = towards(corner, prev, r);
    const leave = towards(corner, next, r);
    points.push(enter);
    for (let k = 1; k < 6; k++) {
      const t = k / 6;
      const u = 1 - t;
      points.push([u * u * enter[0] + 2 * u * t * corner[0] + t * t * leave[0], u * u * enter[1] + 2 * u * t * corner[1] + t * t * leave[1]]);
    }
    points.push(leave);
  }
  points.push(corners[corners.length - 1]);
  return points;
}

/** A short straight run of `dx` from a point (where no edge leads, e.g. to an unseen consumer). */
export function stub(from, dx) {
  return [from, [from[0] + dx / 2, from[1]], [from[0] + dx, from[1]]];
}

/** The distance from the first point to each point. */
export function measure(points) {
  const cumulative = [0];
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i - 1];
    const [x2, y2] = points[i];
    cumulative.push(cumulative[i - 1] + Math.hypot(x2 - x1, y2 - y1));
  }
  return cumulative;
}

/** The point `distance` along `points` (with `cumulative` = measure(points)). */
export function pointAt(points, cumulative, distance) {
  let i = 1;
  while (i < cumulative.length - 1 && cumulative[i] < distance) i++;
  const span = cumulative[i] - cumulative[i - 1] || 1;
  const t = Math.max(0, Math.min(1, (distance - cumulative[i - 1]) / span));
  const [x1, y1] = points[i - 1];
  const [x2, y2] = points[i];
  return [x1 + (x2 - x1) * t, y1 + (y2 - y1) * t];
}
