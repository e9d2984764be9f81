// One pipeline step on the canvas: category stripe, icon, title, type id, a
// labelled handle per port coloured by artifact kind, and badges for GPUs,
// validation problems and run status.
import { Handle, Position, useConnection, type NodeProps } from "@xyflow/react";
import { memo, useEffect, useState } from "react";

import { useCanvas, type HandleRef } from "./context";
import { drawnPorts, handleId, type Direction, type DrawnPort } from "./graph";
import { Glyphs, NodeIcon } from "./icons";
import { useNodeView } from "./nodeView";
import type { NodeStatus, PipeNode } from "./types";

const STATUS_LABELS: Record<string, string> = {
  idle: "Idle",
  queued: "Queued",
  running: "Running",
  succeeded: "Succeeded",
  cached: "Cached",
  failed: "Failed",
  skipped: "Skipped",
  cancelled: "Cancelled",
};

const STATUS_GLYPHS = {
  idle: Glyphs.circleDashed,
  queued: Glyphs.clock,
  running: Glyphs.loader,
  succeeded: Glyphs.circleCheck,
  cached: Glyphs.zap,
  failed: Glyphs.circleX,
  skipped: Glyphs.skip,
  cancelled: Glyphs.ban,
};

export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(Math.floor(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

function useTick(active: boolean): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!active) return undefined;
    const timer = window.setInterval(() => setTick((t) => t + 1), 1000);
    return () => window.clearInterval(timer);
  }, [active]);
}

function StatusBadge({ id, status, since }: { id: string; status: NodeStatus; since: number }) {
  const running = status.state === "running";
  useTick(running);
  const Glyph = STATUS_GLYPHS[status.state] ?? Glyphs.circleDashed;
  let elapsed = typeof status.elapsed === "number" ? status.elapsed : null;
  if (running && elapsed !== null) elapsed += (performance.now() - since) / 1000;
  const attempt = status.attempt && status.attempt > 1 ? ` · try ${status.attempt}` : "";
  const ran = STATUS_LABELS[status.state] ?? status.state;
  const stale = !!status.outdated && !running;
  const label = stale ? "Outdated" : ran;
  const time = elapsed !== null && status.state !== "queued" && !stale ? ` ${formatSeconds(elapsed)}` : "";
  const tip = stale
    ? `Changed since this run (${ran.toLowerCase()}): its outputs are from the previous run. Run or Resume to update it.`
    : `${label}${time}${attempt}`;
  return (
    <span
      className={`pc-status pc-status--${stale ? "outdated" : status.state}`}
      data-testid={`status-${id}`}
      data-state={status.state}
      data-outdated={stale ? "true" : undefined}
      title={tip}
    >
      <Glyph size={12} strokeWidth={2.5} className={running ? "pc-spin" : undefined} aria-hidden="true" />
      <span>
        {label}
        {time}
        {attempt}
      </span>
    </span>
  );
}

function ProblemBadge({ id, errors, warnings }: { id: string; errors: string[]; warnings: string[] }) {
  if (errors.length) {
    return (
      <span className="pc-problem pc-problem--error" data-testid={`errors-${id}`} title={errors.join("\n")}>
        <Glyphs.circleAlert size={12} strokeWidth={2.5} aria-hidden="true" />
        {errors.length}
      </span>
    );
  }
  if (warnings.length) {
    return (
      <span className="pc-problem pc-problem--warning" data-testid={`warnings-${id}`} title={warnings.join("\n")}>
        <Glyphs.triangleAlert size={12} strokeWidth={2.5} aria-hidden="true" />
        {warnings.length}
      </span>
    );
  }
  return null;
}

function PortRow({ nodeId, direction, port, from, connected = 0 }: {
  nodeId: string;
  direction: Direction;
  port: DrawnPort;
  from: HandleRef | null;
  connected?: number;
}) {
  const { accepts } = useCanvas();
  const id = handleId(direction, port.name);
  let state = "";
  if (from && !(from.nodeId === nodeId && from.id === id)) {
    state = accepts(from, nodeId, direction, port.name) ? "pc-handle--ok" : "pc-handle--dim";
  }
  const optional = direction === "in" && !port.required;
  const many = direction === "in" && port.many ? ` · takes many (${connected} connected)` : "";
  const tip = [`${port.name} · ${port.kind}${optional ? " · optional" : ""}${many}`, port.description].filter(Boolean).join("\n");
  return (
    <div className={`pc-port pc-port--${direction} ${state ? `${state}-row` : ""}`} title={tip}>
      <Handle
        id={id}
        type={direction === "in" ? "target" : "source"}
        position={direction === "in" ? Position.Left : Position.Right}
        className={`pc-handle pc-kind-${port.kind} ${optional ? "pc-handle--optional" : ""} ${state}`}
        data-testid={`handle-${nodeId}-${direction}-${port.name}`}
        data-kind={port.kind}
      />
      <span className={`pc-port__label ${port.unknown ? "pc-port__label--unknown" : ""} ${optional ? "pc-port__label--optional" : ""}`}>
        {port.name}
        {direction === "in" && port.many ? (
          <span className="pc-port__count" data-testid={`count-${nodeId}-${port.name}`}> ×{connected}</span>
        ) : null}
      </span>
    </div>
  );
}

function fromKey(c: { inProgress: boolean; fromHandle: HandleRef | null }): string | null {
  return c.inProgress && c.fromHandle ? JSON.stringify([c.fromHandle.nodeId, c.fromHandle.type, c.fromHandle.id]) : null;
}

const NO_PROBLEMS: string[] = [];

function NodeCardImpl({ id, data, selected }: NodeProps<PipeNode>) {
  const { catalog, views, edgePorts } = useCanvas();
  const view = useNodeView(views, id);
  const key = useConnection(fromKey);
  const from: HandleRef | null = key ? (([nodeId, type, hid]) => ({ nodeId, type, id: hid }))(JSON.parse(key)) : null;
  const entry = catalog.get(data.type);
  const decoration = view?.decoration;
  const errors = decoration?.errors ?? NO_PROBLEMS;
  const warnings = decoration?.warnings ?? NO_PROBLEMS;
  const gpu = decoration?.gpu ?? entry?.resources?.gpu ?? 0;
  const nodeStatus = view?.status;
  const used = edgePorts.get(id);
  const inputs = drawnPorts(entry, "in", used?.in ?? []);
  const outputs = drawnPorts(entry, "out", used?.out ?? []);
  const rows = Math.max(inputs.length, outputs.length);
  const title = decoration?.title ?? data.title ?? entry?.title ?? data.type;
  const classes = [
    "pc-node",
    `pc-cat-${entry?.category ?? "unknown"}`,
    nodeStatus ? `pc-node--${nodeStatus.state}` : "",
    nodeStatus?.outdated ? "pc-node--outdated" : "",
    errors.length ? "pc-node--invalid" : "",
    selected ? "pc-node--selected" : "",
    entry ? "" : "pc-node--unknown-type",
  ];
  return (
    <div className={classes.join(" ")} data-testid={`node-${id}`} data-node-type={data.type}>
      <div className="pc-node__badges">
        <ProblemBadge id={id} errors={errors} warnings={warnings} />
        {nodeStatus ? <StatusBadge id={id} status={nodeStatus} since={view?.since ?? 0} /> : null}
      </div>
      <div className="pc-node__head" title={`${id} (${data.type})${entry ? `\n${entry.description}` : "\nunknown node type"}`}>
        <span className="pc-node__icon">
          <NodeIcon name={entry?.icon ?? "box"} size={16} />
        </span>
        <span className="pc-node__titles">
          <span className="pc-node__title">{title}</span>
          <span className="pc-node__sub">
            <span className="pc-node__id">{id}</span>
            <span className="pc-node__type">{data.type}</span>
          </span>
        </span>
        {gpu > 0 ? (
          <span className="pc-gpu" data-testid={`gpu-${id}`} title={`Asks for ${gpu} NVIDIA GPU${gpu > 1 ? "s" : ""}`}>
            GPU{gpu > 1 ? ` ×${gpu}` : ""}
          </span>
        ) : null}
      </div>
      {rows > 0 ? (
        <div className="pc-node__ports">
          <div className="pc-node__col">
            {inputs.map((p) => (
              <PortRow key={p.name} nodeId={id} direction="in" port={p} from={from}
                connected={(used?.in ?? []).filter((name) => name === p.name).length} />
            ))}
          </div>
          <div className="pc-node__col pc-node__col--out">
            {outputs.map((p) => (
              <PortRow key={p.name} nodeId={id} direction="out" port={p} from={from} />
            ))}
          </div>
        </div>
      ) : null}
    </div>
  );
}

export const NodeCard = memo(NodeCardImpl);
