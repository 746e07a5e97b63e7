import { DataSource } from 'typeorm';
import { Services } from '../services';

/** Placeholder until the demo register lands: loads nothing. */
export async function loadDemoRegister(_db: DataSource, _services: Services, _say: (line: string) => void): Promise<{ sampleClient: { id: string; name: string } | null }> {
  return { sampleClient: null };
}
