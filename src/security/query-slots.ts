import { DocumentNode, Kind, OperationDefinitionNode, SelectionSetNode } from 'graphql';

/**
 * At most `max` queries execute at once on this instance; the others wait their turn in arrival order.
 *
 * Why: a query in flight keeps its rows and half-built result alive. With 32 executing at once on the
 * benchmark's nested read, everything a request allocated outlived the young-generation collections,
 * was copied to the old generation and collected there: garbage collection took over a quarter of the
 * CPU and the process grew past 300 MB. Running 4 at a time served more requests per second (the
 * others wait about as long as they would have taken anyway) in less memory (docs/performance.md).
 *
 * Only queries wait, and the mutations that are reads in effect (READ_IN_EFFECT: simulateIncident computes
 * what recording an incident would do, writes nothing and takes no lock). A mutation may hold the exposure engine's lock for a second and a subscription
 * runs for hours: neither takes a slot, so neither can hold reads back. The slot is taken around the
 * execution itself (common/compiled-execution.ts), after parsing, validation and the cost limit, so a
 * refused query never queues, and released in a `finally`, however the execution ends.
 */
export class QuerySlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  /** Queries waiting for a slot (a metric). */
  get queued(): number {
    return this.waiting.length;
  }

  acquire(): Promise<void> | void {
    if (this.running < this.max) {
      this.running += 1;
      return;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next query: `running` stays the same.
    if (next) next();
    else this.running -= 1;
  }
}

/** Mutation fields that write nothing and hold no lock: they wait for a query slot like a query. */
const READ_IN_EFFECT = new Set(['simulateIncident']);

/**
 * Whether an operation waits for a query slot (both transports): a query, or a mutation whose root fields
 * (through fragments) are all reads in effect. `__typename` beside them changes nothing.
 */
export function takesQuerySlot(
  document: DocumentNode,
  operation: OperationDefinitionNode | null | undefined,
): boolean {
  if (!operation) return false;
  if (operation.operation === 'query') return true;
  if (operation.operation !== 'mutation') return false;
  const fragments = new Map(
    document.definitions.flatMap((d) =>
      d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [],
    ),
  );
  const seen = new Set<string>();
  const rootFields = (selectionSet: SelectionSetNode): string[] =>
    selectionSet.selections.flatMap((selection) => {
      if (selection.kind === Kind.FIELD) return [selection.name.value];
      if (selection.kind === Kind.INLINE_FRAGMENT) return rootFields(selection.selectionSet);
      if (seen.has(selection.name.value)) return [];
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      return fragment ? rootFields(fragment.selectionSet) : [];
    });
  const fields = rootFields(operation.selectionSet).filter((name) => !name.startsWith('__'));
  return fields.length > 0 && fields.every((name) => READ_IN_EFFECT.has(name));
}
