import { Controller, Get, UseGuards } from '@nestjs/common';
import { KeyAuthGuard, RequireKey } from '@keys/auth';

// A fixed list: the gateway is a reference consumer of libs/auth, not a model router.
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4', 'llama-3.1-70b-instruct'];

@Controller('v1/models')
@RequireKey('proxy')
@UseGuards(KeyAuthGuard)
export class ModelsHttpController {
  @Get()
  list(): { object: 'list'; data: Array<{ id: string; object: 'model' }> } {
    return { object: 'list', data: MODELS.map((id) => ({ id, object: 'model' as const })) };
  }
}
